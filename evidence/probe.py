"""Read a video container and decide whether it can serve as evidence.

The checks read the container headers and demux every packet but decode no frame,
so a check costs about one read of the file.
"""

from dataclasses import dataclass
from pathlib import Path

import av
from av.container import InputContainer

from contracts.case import EvidenceFacts
from evidence.completeness import StreamSpan, check_complete, scan_packets, seconds_at
from evidence.containers import (
    ReadableFile,
    check_not_image,
    codec_name,
    content_type_of,
    open_container,
    open_stream,
    video_stream,
)
from evidence.errors import VideoRejectedError
from evidence.limits import VideoLimits, check_limits


@dataclass(frozen=True)
class ProbedVideo:
    facts: EvidenceFacts
    content_type: str


def probe_video(path: Path, limits: VideoLimits | None = None) -> ProbedVideo:
    """Open the container, demux every packet, and check the video against limits.

    Raises VideoRejectedError, with a reason a user can act on, when the content
    cannot serve as evidence, including when FFmpeg fails to read it. Raises
    OSError when the file itself cannot be opened or read.
    """
    limits = limits or VideoLimits()
    size = path.stat().st_size
    if size == 0:
        raise _empty()
    with path.open("rb") as file, open_container(path, file) as container:
        return _probe_container(container, limits)


def probe_stream(
    file: ReadableFile, size: int, limits: VideoLimits | None = None
) -> ProbedVideo:
    """Check a video read from a seekable file object, as ``probe_video`` does.

    For objects read back from storage, so that the video needs no local copy.
    """
    if size == 0:
        raise _empty()
    with open_stream(file) as container:
        return _probe_container(container, limits or VideoLimits())


def _probe_container(container: InputContainer, limits: VideoLimits) -> ProbedVideo:
    check_not_image(container)
    stream = video_stream(container)
    content_type = content_type_of(container)
    scan = scan_packets(container)
    check_complete(container, stream, scan)
    # Read what is needed from the streams here, because PyAV frees them with the
    # container.
    span = scan.spans[stream.index]
    facts = _facts(stream, span)
    check_limits(facts, span.packets, limits)
    return ProbedVideo(facts=facts, content_type=content_type)


def _empty() -> VideoRejectedError:
    return VideoRejectedError(
        "video_empty",
        "the uploaded file is empty",
        "上传的文件是空的，请重新录制或选择视频。",
    )


def _facts(video: av.VideoStream, span: StreamSpan) -> EvidenceFacts:
    """Describe the video as demuxed, not as its header declares it."""
    duration = seconds_at(span.end - span.first, video)
    return EvidenceFacts(
        duration_seconds=round(duration, 3),
        codec=codec_name(video) or "unknown",
        width=video.codec_context.width,
        height=video.codec_context.height,
        frame_rate=round(span.packets / duration, 3) if duration > 0 else None,
    )
