"""The containers, codecs and images a phone upload may be, judged by content."""

import errno
import io
from pathlib import Path
from typing import BinaryIO, Protocol

import av
import av.error
from av.container import InputContainer
from av.stream import Disposition, Stream

from evidence.errors import VideoRejectedError, still_image_error

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


class ReadableFile(Protocol):
    """A seekable binary file, or anything that reads, seeks and tells like one."""

    def read(self, size: int = -1, /) -> bytes: ...

    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int: ...

    def tell(self) -> int: ...


class UnnamedFile:
    """A read-only file without a name, so that FFmpeg picks the demuxer by content.

    Given a name, FFmpeg also matches demuxers by its extension, and then opens
    random bytes called "x.jpg" as an image or a ".txt" file as a text-art video.
    """

    def __init__(self, file: ReadableFile) -> None:
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


def open_container(path: Path, file: BinaryIO) -> InputContainer:
    try:
        return av.open(UnnamedFile(file), mode="r", metadata_errors="replace")
    except (av.error.FFmpegError, UnicodeDecodeError) as error:
        raise unreadable(path, error) from error


def open_stream(file: ReadableFile) -> InputContainer:
    """Open a container from a seekable file object that has no path."""
    try:
        return av.open(UnnamedFile(file), mode="r", metadata_errors="replace")
    except (av.error.FFmpegError, UnicodeDecodeError) as error:
        file.seek(0)
        raise rejection_for_head(file.read(12), error) from error


def unreadable(path: Path, error: Exception) -> VideoRejectedError:
    with path.open("rb") as file:
        return rejection_for_head(file.read(12), error)


def rejection_for_head(head: bytes, error: Exception) -> VideoRejectedError:
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


def check_not_image(container: InputContainer) -> None:
    format_name = container.format.name
    if format_name in _IMAGE_FORMATS or format_name.endswith("_pipe"):
        raise still_image_error(f"an image ({format_name})")
    if _MOV_DEMUXER in format_name.split(","):
        brand = _major_brand(container)
        if brand in _IMAGE_BRANDS:
            raise still_image_error(f"a HEIF or AVIF image (brand {brand})")


def video_stream(container: InputContainer) -> av.VideoStream:
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


def content_type_of(container: InputContainer) -> str:
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
        codecs = {codec_name(stream) for stream in container.streams}
        return "video/webm" if codecs <= _WEBM_CODECS else "video/x-matroska"
    raise VideoRejectedError(
        "unsupported_container",
        f"the {container.format.long_name} container ({container.format.name}) is "
        f"not accepted; upload the {_ACCEPTED_CONTAINERS} file that the phone "
        "camera recorded",
        "不支持这种视频文件格式，请上传手机相机直接录制的视频（MP4、MOV、3GP、"
        "WebM 或 MKV 格式）。",
    )


def codec_name(stream: Stream) -> str | None:
    """Return the codec's standard name, not the name of the decoder FFmpeg picked."""
    if stream.codec_context is None:
        return None
    return stream.codec_context.codec.canonical_name
