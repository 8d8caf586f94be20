"""Broken phone uploads, built with PyAV for each test run and never committed.

Each file is one way an upload goes wrong: cut off, not a video at all, a video
stream without frames, a container that declares far more than it holds, or sound
without pictures. ``EXPECTED_CODES`` names the rejection each one must get.

NOTE: a movie or media header (mvhd, mdhd) that declares a longer duration than
the sample tables hold is not among them, because FFmpeg 8 takes the durations
from the sample tables. Such a file is checked as the video it really holds.
"""

import struct
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from evidence.sample_video import write_walkaround_video

# A box size far beyond any file a phone sends.
HUGE_BOX_SIZE = 2**63 - 1


def _truncated(path: Path, sample: Path) -> None:
    data = sample.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _png_named_mp4(path: Path, sample: Path) -> None:
    with av.open(str(path), mode="w", format="image2", options={"update": "1"}) as out:
        picture = out.add_stream("png", rate=1)
        assert isinstance(picture, av.VideoStream)
        picture.width = 320
        picture.height = 240
        picture.pix_fmt = "rgb24"
        image = np.full((240, 320, 3), 90, dtype=np.uint8)
        out.mux(picture.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(picture.encode())


def _text_named_mp4(path: Path, sample: Path) -> None:
    path.write_text("这不是视频 / this is not a video\n" * 200, encoding="utf-8")


def _zero_frames(path: Path, sample: Path) -> None:
    with av.open(str(path), mode="w", format="mp4") as out:
        video = out.add_stream("libx264", rate=25)
        assert isinstance(video, av.VideoStream)
        video.width = 320
        video.height = 240
        video.pix_fmt = "yuv420p"
        out.start_encoding()


def _audio_only(path: Path, sample: Path) -> None:
    with av.open(str(path), mode="w", format="mp4") as out:
        audio = out.add_stream("aac", rate=48000)
        assert isinstance(audio, av.AudioStream)
        audio.layout = "mono"
        for index in range(48000 * 6 // 1024):
            silence = np.zeros((1, 1024), dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(silence, format="fltp", layout="mono")
            frame.sample_rate = 48000
            frame.pts = index * 1024
            out.mux(audio.encode(frame))
        out.mux(audio.encode())


def _find_box(data: bytes, name: bytes) -> int:
    offset = data.find(name)
    assert offset >= 4, f"no {name!r} box in the sample"
    return offset - 4


def _huge_box(path: Path, sample: Path) -> None:
    """Declare the media data box (mdat) as 2**63 bytes long, in its 64-bit size."""
    data = sample.read_bytes()
    mdat = _find_box(data, b"mdat")
    size = struct.unpack(">I", data[mdat : mdat + 4])[0]
    header = struct.pack(">I4sQ", 1, b"mdat", HUGE_BOX_SIZE)
    payload = data[mdat + 8 : mdat + size]
    path.write_bytes(data[:mdat] + header + payload + data[mdat + size :])


BUILDERS: dict[str, Callable[[Path, Path], None]] = {
    "truncated": _truncated,
    "png_named_mp4": _png_named_mp4,
    "text_named_mp4": _text_named_mp4,
    "zero_frames": _zero_frames,
    "audio_only": _audio_only,
    "huge_declared_box": _huge_box,
}

EXPECTED_CODES: dict[str, set[str]] = {
    "truncated": {"video_truncated"},
    "png_named_mp4": {"still_image"},
    "text_named_mp4": {"not_a_video"},
    "zero_frames": {"no_video_stream"},
    "audio_only": {"no_video_stream"},
    "huge_declared_box": {"video_truncated"},
}


# Files whose first bytes are no video container, which resumable uploads reject
# as ``content_mismatch`` before the video checks.
SNIFFED_AS_OTHER = frozenset({"png_named_mp4", "text_named_mp4"})


def write_broken_videos(folder: Path) -> dict[str, Path]:
    """Write every broken upload under ``folder``, each named ``<kind>.mp4``."""
    folder.mkdir(parents=True, exist_ok=True)
    sample = write_walkaround_video(folder / "sample.mp4", seconds=6)
    written = {}
    for kind, build in BUILDERS.items():
        path = folder / f"{kind}.mp4"
        build(path, sample)
        written[kind] = path
    return written
