"""Read a video container and decide whether it can serve as evidence.

The checks read the container headers and demux every packet but decode no frame,
so a check costs about one read of the file.
"""

import errno
import io
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import av
import av.error
from av.container import InputContainer
from av.stream import Disposition, Stream

from contracts.case import EvidenceFacts

ACCEPTED_CODECS = frozenset({"h264", "hevc", "mpeg4", "vp8", "vp9", "av1"})

# FFmpeg opens MP4, MOV and 3GP with its "mov" demuxer, and Matroska and WebM with
# its "matroska" demuxer. Other containers are not what a phone camera records.
_MOV_DEMUXER = "mov"
_MATROSKA_DEMUXER = "matroska"
_ACCEPTED_CONTAINERS = "MP4, MOV, 3GP, WebM or Matroska"
# The codecs that the WebM profile of Matroska allows.
_WEBM_CODECS = frozenset({"vp8", "vp9", "av1", "vorbis", "opus", "webvtt"})
# Major brands of HEIF and AVIF images and image sequences, which the mov demuxer
# also opens.
_IMAGE_BRANDS = frozenset(
    {"avif", "avis", "heic", "heim", "heis", "heix", "hevc", "hevx", "mif1", "msf1"}
)
# FFmpeg's image demuxers whose names do not end in "_pipe".
_IMAGE_FORMATS = frozenset({"apng", "gif", "image2", "image2pipe", "webp"})

# How far the packets of a stream may end before its declared duration. In files
# written by FFmpeg 8 the gap is under 10 ms. A writer that leaves out the duration
# of the last packet loses one frame interval (33-67 ms at 15-30 fps), and one
# audio frame lasts up to 128 ms (AAC at 8 kHz). 0.25 s covers both and is about
# half of what cutting 5% off a 10 s video loses.
_TRUNCATION_TOLERANCE_SECONDS = 0.25


@dataclass(frozen=True)
class VideoLimits:
    """Limits a walk-around video must meet.

    The sides are in pixels and are compared whatever the orientation, so portrait
    and landscape recordings of the same size are treated alike.
    """

    min_seconds: float = 5.0
    max_seconds: float = 600.0
    min_short_side: int = 240
    min_long_side: int = 320
    # Phones record at 24-60 fps and drop to about 15 fps in low light. An average
    # below 5 fps is a time-lapse, a slideshow or a few stills joined together.
    min_frame_rate: float = 5.0


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


@dataclass
class _StreamSpan:
    """Timestamps of the packets read from one stream, in the stream's time base."""

    first: int
    end: int
    packets: int


@dataclass(frozen=True)
class _PacketScan:
    """Result of demuxing the whole file."""

    spans: dict[int, _StreamSpan]
    # The mov demuxer marks a packet corrupt when the file ends inside it. The
    # matroska demuxer drops such a packet instead.
    last_packet_cut: bool
    read_error: av.error.FFmpegError | None


def probe_video(path: Path, limits: VideoLimits | None = None) -> ProbedVideo:
    """Open the container, demux every packet, and check the video against limits.

    Raises VideoRejectedError, with a reason a user can act on, when the content
    cannot serve as evidence, including when FFmpeg fails to read it. Raises
    OSError when the file itself cannot be opened or read.
    """
    limits = limits or VideoLimits()
    size = path.stat().st_size
    if size == 0:
        raise VideoRejectedError(
            "video_empty",
            "the uploaded file is empty",
            "上传的文件是空的，请重新录制或选择视频。",
        )
    with path.open("rb") as file, _open_container(path, file) as container:
        _check_not_image(container)
        stream = _video_stream(container)
        content_type = _content_type(container)
        scan = _scan_packets(container)
        _check_complete(container, stream, scan)
        # Read what is needed from the streams here, because PyAV frees them with
        # the container.
        span = scan.spans[stream.index]
        facts = _facts(stream, span)
    _check_limits(facts, span.packets, limits)
    return ProbedVideo(facts=facts, content_type=content_type)


class _UnnamedFile:
    """A read-only file without a name, so that FFmpeg picks the demuxer by content.

    Given a name, FFmpeg also matches demuxers by its extension, and then opens
    random bytes called "x.jpg" as an image or a ".txt" file as a text-art video.
    """

    def __init__(self, file: BinaryIO) -> None:
        self._file = file

    def read(self, size: int) -> bytes:
        return self._file.read(size)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        # A damaged file can point before its own start. FFmpeg expects a negative
        # error code then, as its own file protocol returns, not an exception.
        try:
            return self._file.seek(offset, whence)
        except OSError as error:
            return -(error.errno or errno.EINVAL)

    def tell(self) -> int:
        return self._file.tell()


def _open_container(path: Path, file: BinaryIO) -> InputContainer:
    try:
        return av.open(_UnnamedFile(file), mode="r", metadata_errors="replace")
    except (av.error.FFmpegError, UnicodeDecodeError) as error:
        raise _unreadable(path, error) from error


def _unreadable(path: Path, error: Exception) -> VideoRejectedError:
    with path.open("rb") as file:
        head = file.read(12)
    # An MP4 starts with an ftyp box and a Matroska file with the EBML magic number.
    if head[4:8] == b"ftyp" or head[:4] == b"\x1a\x45\xdf\xa3":
        return VideoRejectedError(
            "video_truncated",
            "the file starts as an MP4 or WebM video but is incomplete; "
            "send the whole file again",
            "视频不完整（上传中断），请重新上传完整视频。",
        )
    return VideoRejectedError(
        "not_a_video",
        f"the file is not a readable video ({error.__class__.__name__})",
        "文件不是可识别的视频，请上传手机拍摄的现场录像。",
    )


def _still_image_error(description: str) -> VideoRejectedError:
    return VideoRejectedError(
        "still_image",
        f"the file is {description}, not a video; record a video that walks "
        "around the vehicles",
        "您上传的是图片，不是视频。请用手机相机的录像模式绕车辆拍摄一段视频。",
    )


def _check_not_image(container: InputContainer) -> None:
    format_name = container.format.name
    if format_name in _IMAGE_FORMATS or format_name.endswith("_pipe"):
        raise _still_image_error(f"an image ({format_name})")
    if _MOV_DEMUXER in format_name.split(","):
        brand = _major_brand(container)
        if brand in _IMAGE_BRANDS:
            raise _still_image_error(f"a HEIF or AVIF image (brand {brand})")


def _video_stream(container: InputContainer) -> av.VideoStream:
    """Return the first video stream that is not cover art.

    Raises VideoRejectedError when there is none or when its codec is unknown.
    """
    streams = [
        stream
        for stream in container.streams.video
        if not stream.disposition & Disposition.attached_pic
    ]
    if not streams:
        raise VideoRejectedError(
            "no_video_stream",
            "the file contains no video stream",
            "文件中没有视频画面，请上传现场录像。",
        )
    stream = streams[0]
    # PyAV 16 leaves the codec context unset when FFmpeg has no decoder for the
    # codec, for example when the codec tag is unknown.
    if stream.codec_context is None:
        raise VideoRejectedError(
            "unsupported_codec",
            "the video codec is unknown; record in H.264 or H.265",
            "视频编码格式不受支持，请用手机相机重新录制。",
        )
    return stream


def _major_brand(container: InputContainer) -> str:
    return container.metadata.get("major_brand", "").strip()


def _content_type(container: InputContainer) -> str:
    """Return the media type of an accepted container, or reject the container."""
    demuxers = container.format.name.split(",")
    if _MOV_DEMUXER in demuxers:
        brand = _major_brand(container)
        # ISO files must start with an ftyp box, but QuickTime files may have none.
        if brand in ("qt", ""):
            return "video/quicktime"
        if brand.startswith("3g2"):
            return "video/3gpp2"
        if brand.startswith("3g"):
            return "video/3gpp"
        return "video/mp4"
    if _MATROSKA_DEMUXER in demuxers:
        codecs = {_codec_name(stream) for stream in container.streams}
        return "video/webm" if codecs <= _WEBM_CODECS else "video/x-matroska"
    raise VideoRejectedError(
        "unsupported_container",
        f"the {container.format.long_name} container ({container.format.name}) is "
        f"not accepted; upload the {_ACCEPTED_CONTAINERS} file that the phone "
        "camera recorded",
        "不支持这种视频文件格式，请上传手机相机直接录制的视频（MP4、MOV、3GP、"
        "WebM 或 MKV 格式）。",
    )


def _codec_name(stream: Stream) -> str | None:
    """Return the codec's standard name, not the name of the decoder FFmpeg picked."""
    if stream.codec_context is None:
        return None
    return stream.codec_context.codec.canonical_name


def _scan_packets(container: InputContainer) -> _PacketScan:
    """Demux every packet, decoding none, and record where each stream's packets lie."""
    checked = {
        stream.index
        for stream in container.streams
        if stream.type in ("video", "audio")
        and not stream.disposition & Disposition.attached_pic
    }
    spans: dict[int, _StreamSpan] = {}
    last_packet_cut = False
    read_error = None
    try:
        for packet in container.demux():
            # PyAV ends each stream with an empty packet that carries no data.
            if packet.size == 0:
                continue
            last_packet_cut = packet.is_corrupt
            timestamp = packet.pts if packet.pts is not None else packet.dts
            if timestamp is None or packet.stream.index not in checked:
                continue
            end = timestamp + max(packet.duration or 0, 0)
            span = spans.get(packet.stream.index)
            if span is None:
                spans[packet.stream.index] = _StreamSpan(timestamp, end, 1)
            else:
                span.first = min(span.first, timestamp)
                span.end = max(span.end, end)
                span.packets += 1
    except av.error.FFmpegError as error:
        read_error = error
    return _PacketScan(spans, last_packet_cut, read_error)


def _check_complete(
    container: InputContainer, video: Stream, scan: _PacketScan
) -> None:
    """Reject a file whose end is missing, judged by the packets demuxed from it."""
    problem = _missing_end(container, video, scan)
    if problem is not None:
        raise VideoRejectedError(
            "video_truncated",
            f"{problem}; the upload was cut off, send the whole file again",
            "视频不完整（上传中断），请重新上传完整视频。",
        )


def _missing_end(
    container: InputContainer, video: Stream, scan: _PacketScan
) -> str | None:
    """Describe how the file falls short of its own headers, or return None."""
    if scan.read_error is not None:
        return f"reading the file failed ({scan.read_error.strerror})"
    if scan.last_packet_cut:
        return "the file ends in the middle of a packet"
    if video.index not in scan.spans:
        return "the file contains no video frames"

    # Compare each stream with the duration its header declares, and the last packet
    # of the file with the duration of the whole file, which is all Matroska declares.
    declared: list[tuple[str, float, float]] = []
    for stream in container.streams:
        span = scan.spans.get(stream.index)
        if span is None or stream.duration is None or stream.time_base is None:
            continue
        start = stream.start_time or 0
        declared.append(
            (
                stream.type,
                float((start + stream.duration) * stream.time_base),
                _seconds(span.end, stream),
            )
        )
    if container.duration is not None:
        start = container.start_time or 0
        declared_end = (start + container.duration) / av.time_base
        readable_end = max(
            _seconds(span.end, container.streams[index])
            for index, span in scan.spans.items()
        )
        declared.append(("recording", declared_end, readable_end))
    # NOTE: the tolerance was measured on files written by FFmpeg only. If phone
    # files declare durations past their last packet, they would be rejected here.
    # NOTE: a fragmented MP4 or a WebM without a declared duration that is cut
    # exactly between two fragments or clusters passes as a shorter video.
    for name, declared_end, readable_end in declared:
        if readable_end < declared_end - _TRUNCATION_TOLERANCE_SECONDS:
            return (
                f"the {name} stops at {readable_end:.1f} s of its declared "
                f"{declared_end:.1f} s"
            )
    return None


def _seconds(timestamp: int, stream: Stream) -> float:
    return float(timestamp * (stream.time_base or Fraction(1, 1000)))


def _facts(video: av.VideoStream, span: _StreamSpan) -> EvidenceFacts:
    """Describe the video as demuxed, not as its header declares it."""
    duration = _seconds(span.end - span.first, video)
    return EvidenceFacts(
        duration_seconds=round(duration, 3),
        codec=_codec_name(video) or "unknown",
        width=video.codec_context.width,
        height=video.codec_context.height,
        frame_rate=round(span.packets / duration, 3) if duration > 0 else None,
    )


def _check_limits(facts: EvidenceFacts, frames: int, limits: VideoLimits) -> None:
    if frames <= 1:
        raise _still_image_error("a single picture")
    if facts.codec not in ACCEPTED_CODECS:
        raise VideoRejectedError(
            "unsupported_codec",
            f"video codec {facts.codec} is not accepted; record in H.264 or H.265",
            "视频编码格式不受支持，请用手机相机重新录制。",
        )
    _check_duration(facts.duration_seconds, limits)
    _check_frame_rate(facts, frames, limits)
    _check_resolution(facts, limits)


def _check_duration(seconds: float, limits: VideoLimits) -> None:
    # Round toward the failed side, so that 4.96 s never shows as the 5 s minimum.
    if seconds < limits.min_seconds:
        rounded = _round_down(seconds)
        raise VideoRejectedError(
            "video_too_short",
            f"the video lasts {rounded} s; walk around the vehicles "
            f"for at least {limits.min_seconds:g} s",
            f"视频太短（{rounded} 秒），请绕车辆拍摄至少 {limits.min_seconds:g} 秒。",
        )
    if seconds > limits.max_seconds:
        rounded = _round_up(seconds)
        raise VideoRejectedError(
            "video_too_long",
            f"the video lasts {rounded} s; the limit is {limits.max_seconds:g} s",
            f"视频超过 {limits.max_seconds:g} 秒，请拍摄较短的视频。",
        )


def _check_frame_rate(facts: EvidenceFacts, frames: int, limits: VideoLimits) -> None:
    if facts.frame_rate is None or facts.frame_rate >= limits.min_frame_rate:
        return
    raise VideoRejectedError(
        "frame_rate_too_low",
        f"the video has {frames} frames in {facts.duration_seconds:.1f} s, "
        f"{_round_down(facts.frame_rate)} frames per second; record a continuous "
        f"video at {limits.min_frame_rate:g} frames per second or more, "
        "not a time-lapse or a slideshow",
        f"视频画面不连续（每秒不到 {limits.min_frame_rate:g} 帧），请用手机相机的"
        "普通录像模式重新拍摄，不要用延时摄影或照片合成的视频。",
    )


def _check_resolution(facts: EvidenceFacts, limits: VideoLimits) -> None:
    short_side, long_side = sorted((facts.width, facts.height))
    if short_side < limits.min_short_side or long_side < limits.min_long_side:
        raise VideoRejectedError(
            "resolution_too_low",
            f"the video is {facts.width}x{facts.height}; its shorter side must be "
            f"at least {limits.min_short_side} and its longer side at least "
            f"{limits.min_long_side} pixels to read plates",
            "视频清晰度太低，无法看清车牌，请重新录制。",
        )


def _round_down(value: float) -> str:
    return f"{math.floor(value * 10) / 10:.1f}"


def _round_up(value: float) -> str:
    return f"{math.ceil(value * 10) / 10:.1f}"
