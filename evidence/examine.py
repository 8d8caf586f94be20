"""Every check of a stored video in one pass: container, time and place, quality."""

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from contracts.case import EvidenceFacts, EvidenceFinding, FindingSeverity, Location
from evidence.containers import open_container
from evidence.errors import VideoRejectedError
from evidence.limits import VideoLimits
from evidence.metadata import read_recording_metadata
from evidence.probe import probe_video
from evidence.quality import QualityThresholds, quality_findings, sample_frames
from evidence.scene import SceneTolerances, check_scene


@dataclass(frozen=True)
class EvidenceRules:
    """The limits that reject a video and the thresholds that only warn."""

    limits: VideoLimits = field(default_factory=VideoLimits)
    scene: SceneTolerances = field(default_factory=SceneTolerances)
    quality: QualityThresholds = field(default_factory=QualityThresholds)


@dataclass(frozen=True)
class Examination:
    """Findings of the checks, and thumbnails when the video could be decoded."""

    facts: EvidenceFacts | None
    findings: list[EvidenceFinding]
    thumbnails: list[bytes]
    thumbnail_seconds: list[float] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.rejections

    @property
    def rejections(self) -> list[EvidenceFinding]:
        return [f for f in self.findings if f.severity is FindingSeverity.REJECT]

    @property
    def warnings(self) -> list[EvidenceFinding]:
        return [f for f in self.findings if f.severity is FindingSeverity.WARN]


def examine_video(
    path: Path, accident_at: datetime, location: Location, rules: EvidenceRules
) -> Examination:
    """Check the video against the report; a rejection names what to redo.

    Raises OSError when the file cannot be read.
    """
    try:
        probed = probe_video(path, rules.limits)
    except VideoRejectedError as error:
        rejection = EvidenceFinding(
            code=error.code,
            severity=FindingSeverity.REJECT,
            message=f"Rejected: {error.message}",
            message_zh=f"视频未通过：{error.message_zh}",
        )
        return Examination(facts=None, findings=[rejection], thumbnails=[])
    with path.open("rb") as file, open_container(path, file) as container:
        metadata = read_recording_metadata(container)
    findings = check_scene(metadata, accident_at, location, rules.scene)
    sample = sample_frames(path)
    findings += quality_findings(sample, probed.facts.duration_seconds, rules.quality)
    return Examination(
        facts=probed.facts,
        findings=findings,
        thumbnails=sample.thumbnails,
        thumbnail_seconds=sample.seconds,
    )
