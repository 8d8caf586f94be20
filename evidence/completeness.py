"""The completeness check: a file must contain all that its headers declare."""

from dataclasses import dataclass
from fractions import Fraction

import av
import av.error
from av.container import InputContainer
from av.stream import Disposition, Stream

from evidence.errors import VideoRejectedError

# How far the packets of a stream may end before its declared duration. In files
# written by FFmpeg 8 the gap is under 10 ms. A writer that leaves out the duration
# of the last packet loses one frame interval (33-67 ms at 15-30 fps), and one
# audio frame lasts up to 128 ms (AAC at 8 kHz). 0.25 s covers both and is about
# half of what cutting 5% off a 10 s video loses.
_TRUNCATION_TOLERANCE_SECONDS = 0.25


@dataclass
class StreamSpan:
    """Timestamps of the packets read from one stream, in the stream's time base."""

    first: int
    end: int
    packets: int


@dataclass(frozen=True)
class PacketScan:
    """Result of demuxing the whole file."""

    spans: dict[int, StreamSpan]
    # The mov demuxer marks a packet corrupt when the file ends inside it. The
    # matroska demuxer drops such a packet instead.
    last_packet_cut: bool
    read_error: av.error.FFmpegError | None


def scan_packets(container: InputContainer) -> PacketScan:
    """Demux every packet, decoding none, and record where each stream's packets lie."""
    checked = {
        stream.index
        for stream in container.streams
        if stream.type in ("video", "audio")
        and not stream.disposition & Disposition.attached_pic
    }
    spans: dict[int, StreamSpan] = {}
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
                spans[packet.stream.index] = StreamSpan(timestamp, end, 1)
            else:
                span.first = min(span.first, timestamp)
                span.end = max(span.end, end)
                span.packets += 1
    except av.error.FFmpegError as error:
        read_error = error
    return PacketScan(spans, last_packet_cut, read_error)


def check_complete(container: InputContainer, video: Stream, scan: PacketScan) -> None:
    """Reject a file whose end is missing, judged by the packets demuxed from it."""
    problem = _missing_end(container, video, scan)
    if problem is not None:
        raise VideoRejectedError(
            "video_truncated",
            f"{problem}; the upload was cut off, send the whole file again",
            "视频不完整（上传中断），请重新上传完整视频。",
        )


def _missing_end(
    container: InputContainer, video: Stream, scan: PacketScan
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
                seconds_at(span.end, stream),
            )
        )
    if container.duration is not None:
        start = container.start_time or 0
        declared_end = (start + container.duration) / av.time_base
        readable_end = max(
            seconds_at(span.end, container.streams[index])
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


def seconds_at(timestamp: int, stream: Stream) -> float:
    return float(timestamp * (stream.time_base or Fraction(1, 1000)))
