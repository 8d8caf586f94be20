from collections.abc import Callable
from pathlib import Path

import pytest

from common.sample_video import write_walkaround_video
from common.video import VideoLimits, VideoRejectedError, probe_video


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_walkaround_video(tmp_path_factory.mktemp("v") / "scene.mp4", seconds=6)


def test_walkaround_video_facts_are_read(video: Path) -> None:
    probed = probe_video(video)

    assert probed.facts.codec == "h264"
    assert (probed.facts.width, probed.facts.height) == (640, 360)
    assert probed.facts.duration_seconds == pytest.approx(6.0, abs=0.1)
    assert probed.content_type == "video/mp4"


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (lambda data: b"", "video_empty"),
        (lambda data: b"%PDF-1.7 not a video" * 50, "not_a_video"),
        (lambda data: data[: len(data) // 2], "video_truncated"),
        (lambda data: data[:2000], "video_truncated"),
    ],
    ids=["empty", "pdf", "half", "header-only"],
)
def test_broken_file_is_rejected(
    video: Path, tmp_path: Path, content: Callable[[bytes], bytes], code: str
) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(content(video.read_bytes()))

    with pytest.raises(VideoRejectedError) as error:
        probe_video(broken)

    assert error.value.code == code
    assert error.value.message_zh


def test_short_video_is_rejected(video: Path) -> None:
    with pytest.raises(VideoRejectedError) as error:
        probe_video(video, VideoLimits(min_seconds=10))

    assert error.value.code == "video_too_short"
    assert "at least 10 s" in error.value.message


def test_low_resolution_video_is_rejected(tmp_path: Path) -> None:
    small = write_walkaround_video(
        tmp_path / "small.mp4", seconds=6, width=160, height=120
    )

    with pytest.raises(VideoRejectedError) as error:
        probe_video(small)

    assert error.value.code == "resolution_too_low"
