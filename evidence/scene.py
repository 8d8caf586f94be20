"""Whether the video was recorded at the reported accident's time and place.

The rule: a recording time or GPS point that the file declares and that lies beyond
the tolerance rejects the video, because it shows another time or place. A file
that declares neither only draws a warning, since many phones and apps strip them.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from contracts.case import EvidenceFinding, FindingSeverity, Location
from evidence.metadata import RecordingMetadata, distance_meters

_TIME_FORMAT = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class SceneTolerances:
    """How far the file's recording time and GPS point may lie from the report."""

    recording_time: timedelta = timedelta(hours=2)
    distance_meters: float = 1000.0


def check_scene(
    metadata: RecordingMetadata,
    accident_at: datetime,
    location: Location,
    tolerances: SceneTolerances,
) -> list[EvidenceFinding]:
    """Compare the file's recording time and place with the reported ones."""
    findings = [
        _recording_time_finding(metadata, accident_at, tolerances),
        _location_finding(metadata, location, tolerances),
    ]
    return [finding for finding in findings if finding is not None]


def _recording_time_finding(
    metadata: RecordingMetadata, accident_at: datetime, tolerances: SceneTolerances
) -> EvidenceFinding | None:
    recorded_at = metadata.recorded_at
    if recorded_at is None:
        return EvidenceFinding(
            code="recording_time_missing",
            severity=FindingSeverity.WARN,
            message="Warning: the video carries no recording time, so it cannot be "
            "compared with the accident time",
            message_zh="提示：视频中没有拍摄时间，无法与事故时间核对。",
        )
    offset = recorded_at - accident_at
    if abs(offset) <= tolerances.recording_time:
        return None
    minutes = round(abs(offset).total_seconds() / 60)
    allowed = round(tolerances.recording_time.total_seconds() / 60)
    after = offset > timedelta()
    recorded = recorded_at.astimezone(accident_at.tzinfo).strftime(_TIME_FORMAT)
    reported = accident_at.strftime(_TIME_FORMAT)
    return EvidenceFinding(
        code="recording_time_mismatch",
        severity=FindingSeverity.REJECT,
        message=f"Rejected: the video was recorded at {recorded}, {minutes} minutes "
        f"{'after' if after else 'before'} the reported accident time {reported}, "
        f"beyond the {allowed} minutes allowed; record the scene again, or upload "
        "the video recorded at the accident",
        message_zh=f"视频未通过：拍摄时间 {recorded} 比报案的事故时间 {reported} "
        f"{'晚' if after else '早'} {minutes} 分钟，超过允许的 {allowed} 分钟。"
        "请重新拍摄现场视频，或上传事故现场拍摄的视频。",
    )


def _location_finding(
    metadata: RecordingMetadata, location: Location, tolerances: SceneTolerances
) -> EvidenceFinding | None:
    if metadata.latitude is None or metadata.longitude is None:
        return EvidenceFinding(
            code="recording_location_missing",
            severity=FindingSeverity.WARN,
            message="Warning: the video carries no GPS position, so it cannot be "
            "compared with the accident location",
            message_zh="提示：视频中没有拍摄位置，无法与事故地点核对。",
        )
    distance = distance_meters(
        metadata.latitude, metadata.longitude, location.latitude, location.longitude
    )
    if distance <= tolerances.distance_meters:
        return None
    kilometres = _kilometres(distance)
    allowed = _kilometres(tolerances.distance_meters)
    return EvidenceFinding(
        code="recording_location_mismatch",
        severity=FindingSeverity.REJECT,
        message=f"Rejected: the video was recorded at {metadata.latitude:.5f}, "
        f"{metadata.longitude:.5f}, {kilometres} km from the reported accident "
        f"location ({location.address}), beyond the {allowed} km allowed; record "
        "the scene again at the accident location",
        message_zh=f"视频未通过：拍摄地点距报案的事故地点（{location.address}）"
        f"{kilometres} 公里，超过允许的 {allowed} 公里。请在事故现场重新拍摄视频。",
    )


def _kilometres(meters: float) -> str:
    return f"{meters / 1000:.1f}"
