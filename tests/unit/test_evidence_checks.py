"""Recording time and place, quality warnings and thumbnails of scene videos."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pytest

from contracts.case import FindingSeverity, Location
from evidence.containers import open_container
from evidence.examine import EvidenceRules, examine_video
from evidence.metadata import (
    RecordingMetadata,
    distance_meters,
    parse_iso6709,
    parse_recording_time,
    read_recording_metadata,
)
from evidence.quality import (
    FrameSample,
    QualityThresholds,
    quality_findings,
    sample_frames,
)
from evidence.sample_video import RecordingTags, write_walkaround_video
from evidence.scene import SceneTolerances, check_scene

ACCIDENT_AT = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)
# The same moment as the phone reports it, in China Standard Time.
ACCIDENT_AT_CHINA = datetime.fromisoformat("2026-12-05T01:00:00+08:00")
SCENE = Location(latitude=30.27415, longitude=120.15515, address="杭州市文三路")


def _metadata(
    recorded_at: datetime | None = ACCIDENT_AT,
    point: tuple[float, float] | None = (30.27415, 120.15515),
) -> RecordingMetadata:
    return RecordingMetadata(
        recorded_at=recorded_at,
        latitude=None if point is None else point[0],
        longitude=None if point is None else point[1],
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+30.2741+120.1551/", (30.2741, 120.1551)),
        ("+30.2741+120.1551+012.000/", (30.2741, 120.1551)),
        ("-33.8688+151.2093/", (-33.8688, 151.2093)),
        ("+30.2741+120.1551", (30.2741, 120.1551)),
        ("30.2741,120.1551", None),
        ("+95.0000+120.0000/", None),
        ("", None),
    ],
)
def test_iso6709_point_is_parsed(
    text: str, expected: tuple[float, float] | None
) -> None:
    assert parse_iso6709(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-04T17:00:00+0800", datetime(2026, 12, 4, 9, 0, tzinfo=UTC)),
        ("2026-12-04T09:00:00.000000Z", datetime(2026, 12, 4, 9, 0, tzinfo=UTC)),
        ("2026-12-04 09:00:00", datetime(2026, 12, 4, 9, 0, tzinfo=UTC)),
        ("1970-01-01T00:00:00.000000Z", None),
        ("yesterday", None),
    ],
)
def test_recording_time_is_parsed(text: str, expected: datetime | None) -> None:
    assert parse_recording_time(text) == expected


def test_distance_between_cities() -> None:
    beijing_to_shanghai = distance_meters(39.9042, 116.4074, 31.2304, 121.4737)

    assert 1_060_000 < beijing_to_shanghai < 1_075_000


def test_mp4_tags_are_read(tmp_path: Path) -> None:
    recorded = datetime(2026, 12, 4, 9, 0, 5, tzinfo=UTC)
    tags = RecordingTags(recorded_at=recorded, latitude=30.2741, longitude=120.1551)
    path = write_walkaround_video(tmp_path / "tagged.mp4", seconds=1, tags=tags)

    with path.open("rb") as file, open_container(path, file) as container:
        metadata = read_recording_metadata(container)

    assert metadata.recorded_at == recorded
    assert metadata.time_tag == "creation_time"
    assert (metadata.latitude, metadata.longitude) == (30.2741, 120.1551)
    assert metadata.location_tag == "location"


def test_apple_tags_are_read(tmp_path: Path) -> None:
    recorded = datetime.fromisoformat("2026-12-04T17:00:05+08:00")
    tags = RecordingTags(
        recorded_at=recorded, latitude=30.2741, longitude=120.1551, apple=True
    )
    path = write_walkaround_video(tmp_path / "tagged.mov", seconds=1, tags=tags)

    with path.open("rb") as file, open_container(path, file) as container:
        metadata = read_recording_metadata(container)

    assert metadata.recorded_at == recorded
    assert metadata.time_tag == "com.apple.quicktime.creationdate"
    assert metadata.location_tag == "com.apple.quicktime.location.ISO6709"
    assert (metadata.latitude, metadata.longitude) == (30.2741, 120.1551)


def test_matching_time_and_place_pass() -> None:
    metadata = _metadata(recorded_at=ACCIDENT_AT + timedelta(minutes=90))

    findings = check_scene(metadata, ACCIDENT_AT, SCENE, SceneTolerances())

    assert findings == []


def test_recording_long_after_accident_is_rejected() -> None:
    metadata = _metadata(recorded_at=ACCIDENT_AT + timedelta(hours=3))

    findings = check_scene(metadata, ACCIDENT_AT_CHINA, SCENE, SceneTolerances())

    assert [finding.code for finding in findings] == ["recording_time_mismatch"]
    assert findings[0].severity is FindingSeverity.REJECT
    assert findings[0].message == (
        "Rejected: the video was recorded at 2026-12-05 04:00, 180 minutes after "
        "the reported accident time 2026-12-05 01:00, beyond the 120 minutes "
        "allowed; record the scene again, or upload the video recorded at the "
        "accident"
    )
    assert findings[0].message_zh.startswith(
        "视频未通过：拍摄时间 2026-12-05 04:00 比报案的事故时间 2026-12-05 01:00 "
        "晚 180 分钟"
    )


def test_recording_before_accident_is_rejected() -> None:
    metadata = _metadata(recorded_at=ACCIDENT_AT - timedelta(days=1))

    findings = check_scene(metadata, ACCIDENT_AT, SCENE, SceneTolerances())

    assert "1440 minutes before the reported accident time" in findings[0].message
    assert "早 1440 分钟" in findings[0].message_zh


def test_recording_far_away_is_rejected() -> None:
    metadata = _metadata(point=(39.9075, 116.39723))

    findings = check_scene(metadata, ACCIDENT_AT, SCENE, SceneTolerances())

    assert [finding.code for finding in findings] == ["recording_location_mismatch"]
    assert findings[0].severity is FindingSeverity.REJECT
    assert findings[0].message.startswith(
        "Rejected: the video was recorded at 39.90750, 116.39723, 1124.1 km"
    )
    assert (
        "km from the reported accident location (杭州市文三路)" in findings[0].message
    )
    assert "beyond the 1.0 km allowed" in findings[0].message


def test_location_tolerance_follows_setting() -> None:
    metadata = _metadata(point=(30.28115, 120.15515))

    near = check_scene(metadata, ACCIDENT_AT, SCENE, SceneTolerances())
    strict = check_scene(
        metadata, ACCIDENT_AT, SCENE, SceneTolerances(distance_meters=500)
    )

    assert near == []
    assert [finding.code for finding in strict] == ["recording_location_mismatch"]


def test_missing_tags_only_warn() -> None:
    metadata = _metadata(recorded_at=None, point=None)

    findings = check_scene(metadata, ACCIDENT_AT, SCENE, SceneTolerances())

    assert [finding.code for finding in findings] == [
        "recording_time_missing",
        "recording_location_missing",
    ]
    assert all(finding.severity is FindingSeverity.WARN for finding in findings)
    assert findings[0].message.startswith("Warning: ")


def test_thumbnails_are_jpeg_keyframes(tmp_path: Path) -> None:
    path = write_walkaround_video(tmp_path / "scene.mp4")

    sample = sample_frames(path, count=5)

    assert len(sample.thumbnails) == 5
    assert len(set(sample.thumbnails)) == 5
    assert sample.seconds == [0.8, 2.4, 4.0, 5.6, 7.2]
    for index, image in enumerate(sample.thumbnails):
        path = tmp_path / f"thumbnail-{index}.jpg"
        path.write_bytes(image)
        with av.open(str(path)) as container:
            frame = next(container.decode(video=0))
        assert image[:2] == b"\xff\xd8"
        assert (frame.width, frame.height) == (320, 180)


def test_clear_long_video_draws_no_warning(tmp_path: Path) -> None:
    path = write_walkaround_video(tmp_path / "clear.mp4", seconds=2)

    sample = sample_frames(path)
    findings = quality_findings(sample, 25.0, QualityThresholds())

    assert findings == []


def test_dark_video_warns(tmp_path: Path) -> None:
    path = write_walkaround_video(tmp_path / "dark.mp4", seconds=2, brightness=0.35)

    sample = sample_frames(path)
    findings = quality_findings(sample, 25.0, QualityThresholds())

    assert sample.mean_luma < 40
    assert [finding.code for finding in findings] == ["too_dark"]
    assert findings[0].severity is FindingSeverity.WARN


def test_blurred_video_warns(tmp_path: Path) -> None:
    path = write_walkaround_video(tmp_path / "flat.mp4", seconds=2, textured=False)

    sample = sample_frames(path)
    findings = quality_findings(sample, 25.0, QualityThresholds())

    assert sample.sharpness < 50
    assert [finding.code for finding in findings] == ["too_blurred"]
    assert "looks blurred" in findings[0].message


def test_short_walkaround_warns() -> None:
    sample = FrameSample(thumbnails=[], mean_luma=120.0, sharpness=500.0)

    findings = quality_findings(sample, 8.0, QualityThresholds())

    assert [finding.code for finding in findings] == ["too_short_for_walkaround"]
    assert findings[0].message == (
        "Warning: the video lasts 8.0 s, less than the 20 s a walk around two "
        "vehicles takes; a side of a vehicle may be missing"
    )


def test_examination_rejects_bad_container(tmp_path: Path) -> None:
    path = tmp_path / "text.mp4"
    path.write_bytes("不是视频".encode() * 100)

    examination = examine_video(path, ACCIDENT_AT, SCENE, EvidenceRules())

    assert not examination.accepted
    assert examination.rejections[0].code == "not_a_video"
    assert examination.rejections[0].message.startswith("Rejected: the file is not")
    assert examination.thumbnails == []


def test_examination_of_tagged_video(tmp_path: Path) -> None:
    tags = RecordingTags(
        recorded_at=ACCIDENT_AT + timedelta(minutes=5),
        latitude=SCENE.latitude,
        longitude=SCENE.longitude,
    )
    path = write_walkaround_video(tmp_path / "scene.mp4", tags=tags)

    examination = examine_video(path, ACCIDENT_AT, SCENE, EvidenceRules())

    assert examination.accepted
    assert [finding.code for finding in examination.warnings] == [
        "too_short_for_walkaround"
    ]
    assert examination.facts is not None
    assert len(examination.thumbnails) == 5
