"""Read a video container and decide whether it can serve as evidence."""

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error

from contracts.case import EvidenceFacts

ACCEPTED_CODECS = frozenset({"h264", "hevc", "mpeg4", "vp8", "vp9", "av1"})
_CONTENT_TYPES = {"mp4": "video/mp4", "mov": "video/quicktime", "webm": "video/webm"}
# A demuxed stream shorter than this share of its declared duration lost its tail.
_MIN_COMPLETE_SHARE = 0.9


@dataclass(frozen=True)
class VideoLimits:
    min_seconds: float = 5.0
    max_seconds: float = 600.0
    min_width: int = 320
    min_height: int = 240


class VideoRejectedError(Exception):
    """The file cannot serve as evidence; ``message_zh`` is what the phone shows."""

    def __init__(self, code: str, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.message_zh = message_zh


@dataclass(frozen=True)
class ProbedVideo:
    facts: EvidenceFacts
    content_type: str


def probe_video(path: Path, limits: VideoLimits | None = None) -> ProbedVideo:
    """Open the container, demux every packet, and check the stream against limits.

    Raises VideoRejectedError with a reason a user can act on.
    """
    limits = limits or VideoLimits()
    size = path.stat().st_size
    if size == 0:
        raise VideoRejectedError(
            "video_empty",
            "the uploaded file is empty",
            "上传的文件是空的，请重新录制或选择视频。",
        )
    try:
        container = av.open(str(path), mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError) as error:
        raise _unreadable(path, error) from error
    with container:
        if not container.streams.video:
            raise VideoRejectedError(
                "no_video_stream",
                "the file contains no video stream",
                "文件中没有视频画面，请上传现场录像。",
            )
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        if codec not in ACCEPTED_CODECS:
            raise VideoRejectedError(
                "unsupported_codec",
                f"video codec {codec} is not accepted; record in H.264 or H.265",
                "视频编码格式不受支持，请用手机相机重新录制。",
            )
        declared = _declared_seconds(container, stream)
        demuxed = _demuxed_seconds(container, stream)
        facts = EvidenceFacts(
            duration_seconds=round(max(declared, demuxed), 3),
            codec=codec,
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            frame_rate=float(stream.average_rate) if stream.average_rate else None,
        )
        format_name = container.format.name
    if declared > 0 and demuxed < declared * _MIN_COMPLETE_SHARE:
        raise VideoRejectedError(
            "video_truncated",
            f"the video stops at {demuxed:.1f} s of its declared {declared:.1f} s; "
            "the upload was cut off, send the whole file again",
            "视频不完整（上传中断），请重新上传完整视频。",
        )
    _check_limits(facts, limits)
    return ProbedVideo(facts=facts, content_type=_content_type(format_name))


def _unreadable(path: Path, error: Exception) -> VideoRejectedError:
    with path.open("rb") as file:
        head = file.read(12)
    if head[4:8] == b"ftyp":
        return VideoRejectedError(
            "video_truncated",
            "the file starts as an MP4 video but is incomplete; "
            "send the whole file again",
            "视频不完整（上传中断），请重新上传完整视频。",
        )
    return VideoRejectedError(
        "not_a_video",
        f"the file is not a readable video ({error.__class__.__name__})",
        "文件不是可识别的视频，请上传手机拍摄的现场录像。",
    )


def _declared_seconds(
    container: av.container.InputContainer, stream: av.VideoStream
) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0


def _demuxed_seconds(
    container: av.container.InputContainer, stream: av.VideoStream
) -> float:
    """Return where the last readable packet ends, reading packets without decoding."""
    time_base = stream.time_base or Fraction(1, 1000)
    start: int | None = None
    end = 0
    try:
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            start = packet.pts if start is None else min(start, packet.pts)
            end = max(end, packet.pts + (packet.duration or 0))
    except av.error.FFmpegError:
        pass
    if start is None:
        return 0.0
    return float((end - start) * time_base)


def _check_limits(facts: EvidenceFacts, limits: VideoLimits) -> None:
    if facts.duration_seconds < limits.min_seconds:
        raise VideoRejectedError(
            "video_too_short",
            f"the video lasts {facts.duration_seconds:.1f} s; walk around the vehicles "
            f"for at least {limits.min_seconds:.0f} s",
            f"视频太短，请绕车辆拍摄至少 {limits.min_seconds:.0f} 秒。",
        )
    if facts.duration_seconds > limits.max_seconds:
        raise VideoRejectedError(
            "video_too_long",
            f"the video lasts {facts.duration_seconds:.0f} s; the limit is "
            f"{limits.max_seconds:.0f} s",
            f"视频超过 {limits.max_seconds:.0f} 秒，请拍摄较短的视频。",
        )
    if facts.width < limits.min_width or facts.height < limits.min_height:
        raise VideoRejectedError(
            "resolution_too_low",
            f"the video is {facts.width}x{facts.height}; at least "
            f"{limits.min_width}x{limits.min_height} is needed to read plates",
            "视频清晰度太低，无法看清车牌，请重新录制。",
        )


def _content_type(format_name: str) -> str:
    names = set(format_name.split(","))
    for name, content_type in _CONTENT_TYPES.items():
        if name in names:
            return content_type
    return "application/octet-stream"
