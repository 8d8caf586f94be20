from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import TypedDict

import av
import numpy as np
import pytest
from av.stream import Disposition

from evidence import VideoLimits, VideoRejectedError, probe_video
from evidence.sample_video import write_walkaround_video

# Encoder settings that keep a 10 s test video under a second to write.
_FAST_ENCODERS: dict[str, dict[str, object]] = {
    "libx264": {"preset": "ultrafast"},
    "libvpx": {"deadline": "realtime", "cpu-used": "8"},
    "libvpx-vp9": {"deadline": "realtime", "cpu-used": "8"},
    "libaom-av1": {"usage": "realtime", "cpu-used": "8"},
}
_AUDIO_RATE = 48000
_AUDIO_CHUNK = 1024


class _Recording(TypedDict, total=False):
    """How a test video is stored: container, codecs and muxer options."""

    container_format: str
    codec: str
    audio_codec: str
    options: dict[str, str]


def _write_video(
    path: Path,
    container_format: str = "mp4",
    codec: str = "libx264",
    seconds: float = 10.0,
    width: int = 320,
    height: int = 240,
    rate: Fraction = Fraction(25),
    audio_codec: str | None = None,
    options: dict[str, str] | None = None,
) -> Path:
    """Write a moving stripe, interleaved with silence if an audio codec is named."""
    with av.open(str(path), mode="w", format=container_format, options=options) as out:
        video = out.add_stream(codec, rate=rate)
        assert isinstance(video, av.VideoStream)
        video.width = width
        video.height = height
        video.pix_fmt = "rgb24" if codec == "png" else "yuv420p"
        video.options = _FAST_ENCODERS.get(codec, {})
        audio = None if audio_codec is None else _add_audio(out, audio_codec)
        image = np.zeros((height, width, 3), dtype=np.uint8)
        image[:, : width // 3] = (200, 30, 30)
        samples = 0

        for index in range(round(seconds * rate)):
            shifted = np.roll(image, index * 4, axis=1)
            out.mux(video.encode(av.VideoFrame.from_ndarray(shifted, format="rgb24")))
            if audio is not None:
                frame_end = int((index + 1) / rate * _AUDIO_RATE)
                samples = _write_silence(out, audio, samples, frame_end)

        out.mux(video.encode())
        if audio is not None:
            out.mux(audio.encode())
    return path


def _add_audio(out: av.container.OutputContainer, codec: str) -> av.AudioStream:
    audio = out.add_stream(codec, rate=_AUDIO_RATE)
    assert isinstance(audio, av.AudioStream)
    audio.layout = "mono"
    return audio


def _write_silence(
    out: av.container.OutputContainer, audio: av.AudioStream, start: int, end: int
) -> int:
    """Encode silence from sample ``start`` in whole chunks and return the next one."""
    while start < end:
        silence = np.zeros((1, _AUDIO_CHUNK), dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(silence, format="fltp", layout="mono")
        frame.sample_rate = _AUDIO_RATE
        frame.pts = start
        out.mux(audio.encode(frame))
        start += _AUDIO_CHUNK
    return start


def _write_still(path: Path, codec: str) -> Path:
    """Write one picture the way a camera app saves a photo."""
    with av.open(str(path), mode="w", format="image2") as out:
        picture = out.add_stream(codec, rate=1)
        assert isinstance(picture, av.VideoStream)
        picture.width = 320
        picture.height = 240
        picture.pix_fmt = "rgb24" if codec == "png" else "yuvj420p"
        image = np.full((240, 320, 3), 128, dtype=np.uint8)
        out.mux(picture.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(picture.encode())
    return path


def _requires_encoders(*names: str) -> pytest.MarkDecorator:
    missing = [name for name in names if name not in av.codecs_available]
    return pytest.mark.skipif(
        bool(missing), reason=f"this PyAV build has no {', '.join(missing)} encoder"
    )


def _rejection(path: Path, limits: VideoLimits | None = None) -> VideoRejectedError:
    with pytest.raises(VideoRejectedError) as error:
        probe_video(path, limits)
    return error.value


def _cut_at_packet(source: Path, target: Path, seconds: float) -> Path:
    """Copy the file up to the first packet at or after ``seconds``, cutting none."""
    with av.open(str(source)) as container:
        offsets = [
            packet.pos
            for packet in container.demux()
            if packet.pos is not None
            and packet.pts is not None
            and packet.time_base is not None
            and packet.pts * packet.time_base >= seconds
        ]
    target.write_bytes(source.read_bytes()[: min(offsets)])
    return target


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_walkaround_video(tmp_path_factory.mktemp("v") / "scene.mp4", seconds=6)


# Each layout a phone may upload: moov box first, moov box last, fragments, WebM.
_LAYOUTS: dict[str, _Recording] = {
    "faststart-mp4": {"audio_codec": "aac", "options": {"movflags": "+faststart"}},
    "moov-last-mp4": {"audio_codec": "aac"},
    "fragmented-mp4": {
        "audio_codec": "aac",
        "options": {"movflags": "frag_keyframe+empty_moov"},
    },
    "vp9-webm": {
        "container_format": "webm",
        "codec": "libvpx-vp9",
        "audio_codec": "libopus",
    },
}


_LAYOUT_NAMES = [
    pytest.param(
        name,
        marks=_requires_encoders(
            recording.get("codec", "libx264"), recording.get("audio_codec", "aac")
        ),
    )
    for name, recording in _LAYOUTS.items()
]


@pytest.fixture(scope="module")
def recording_of(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Return a function that writes each layout's 10 s recording once."""
    folder = tmp_path_factory.mktemp("layouts")
    written: dict[str, Path] = {}

    def recording(layout: str) -> Path:
        if layout not in written:
            written[layout] = _write_video(folder / layout, **_LAYOUTS[layout])
        return written[layout]

    return recording


def test_walkaround_video_facts_are_read(video: Path) -> None:
    probed = probe_video(video)

    assert probed.facts.codec == "h264"
    assert (probed.facts.width, probed.facts.height) == (640, 360)
    assert probed.facts.duration_seconds == pytest.approx(6.0, abs=0.1)
    assert probed.facts.frame_rate == pytest.approx(25.0)
    assert probed.content_type == "video/mp4"


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (lambda data: b"", "video_empty"),
        (lambda data: b"%PDF-1.7 not a video" * 50, "not_a_video"),
        (lambda data: np.random.default_rng(7).bytes(100_000), "not_a_video"),
        (lambda data: data[: len(data) // 2], "video_truncated"),
        (lambda data: data[:2000], "video_truncated"),
    ],
    ids=["empty", "pdf", "random-bytes", "half", "header-only"],
)
def test_broken_file_is_rejected(
    video: Path, tmp_path: Path, content: Callable[[bytes], bytes], code: str
) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(content(video.read_bytes()))

    error = _rejection(broken)

    assert error.code == code
    assert error.message
    assert error.message_zh


def test_extension_does_not_choose_demuxer(tmp_path: Path) -> None:
    upload = tmp_path / "scene.jpg"
    upload.write_bytes(np.random.default_rng(7).bytes(100_000))

    error = _rejection(upload)

    assert error.code == "not_a_video"
    assert "not a readable video" in error.message
    assert "不是可识别的视频" in error.message_zh


def test_audio_only_file_has_no_video_stream(tmp_path: Path) -> None:
    upload = tmp_path / "voice"
    with av.open(str(upload), mode="w", format="mp4") as out:
        audio = _add_audio(out, "aac")
        _write_silence(out, audio, 0, 6 * _AUDIO_RATE)
        out.mux(audio.encode())

    error = _rejection(upload)

    assert error.code == "no_video_stream"
    assert "no video stream" in error.message
    assert "没有视频画面" in error.message_zh


def test_cover_art_is_not_a_video_stream(tmp_path: Path) -> None:
    upload = tmp_path / "song"
    with av.open(str(upload), mode="w", format="mp4") as out:
        cover = out.add_stream("png", rate=1)
        cover.width = 64
        cover.height = 64
        cover.pix_fmt = "rgb24"
        # PyAV 16 sets the disposition from an int although its stubs name the flag.
        cover.disposition = Disposition.attached_pic.value  # type: ignore[assignment]
        audio = _add_audio(out, "aac")
        image = np.zeros((64, 64, 3), dtype=np.uint8)
        out.mux(cover.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(cover.encode())
        _write_silence(out, audio, 0, 6 * _AUDIO_RATE)
        out.mux(audio.encode())

    error = _rejection(upload)

    assert error.code == "no_video_stream"


@pytest.mark.parametrize(
    ("source", "tag", "unknown_tag"),
    [
        ({"container_format": "avi", "codec": "mpeg4"}, b"FMP4", b"ZZZZ"),
        ({"container_format": "mov"}, b"avc1", b"ZZZZ"),
        ({"container_format": "matroska"}, b"V_MPEG4/ISO/AVC", b"V_UNKNOWN/CODEC"),
    ],
    ids=["avi", "mov", "matroska"],
)
def test_unknown_codec_is_rejected(
    tmp_path: Path, source: _Recording, tag: bytes, unknown_tag: bytes
) -> None:
    original = _write_video(tmp_path / "original", seconds=6, **source)
    data = original.read_bytes()
    assert tag in data
    upload = tmp_path / "upload"
    upload.write_bytes(data.replace(tag, unknown_tag))

    error = _rejection(upload)

    assert error.code == "unsupported_codec"
    assert "codec is unknown" in error.message
    assert "H.264" in error.message
    assert "编码格式不受支持" in error.message_zh


@pytest.mark.parametrize("layout", _LAYOUT_NAMES)
def test_complete_recording_is_accepted(
    recording_of: Callable[[str], Path], layout: str
) -> None:
    probed = probe_video(recording_of(layout))

    # FFmpeg 8 stretches the first frame of a fragmented MP4 by about half a frame.
    assert probed.facts.duration_seconds == pytest.approx(10.0, abs=0.04)
    assert probed.facts.frame_rate == pytest.approx(25.0, abs=0.1)


@pytest.mark.parametrize("share", [0.5, 0.92, 0.95])
@pytest.mark.parametrize("layout", _LAYOUT_NAMES)
def test_cut_recording_is_truncated(
    recording_of: Callable[[str], Path], tmp_path: Path, layout: str, share: float
) -> None:
    data = recording_of(layout).read_bytes()
    upload = tmp_path / "upload"
    upload.write_bytes(data[: int(len(data) * share)])

    error = _rejection(upload)

    assert error.code == "video_truncated"
    assert "send the whole file again" in error.message
    assert "视频不完整" in error.message_zh


_VP9_WEBM = _requires_encoders("libvpx-vp9", "libopus")


@pytest.mark.parametrize(
    "layout", ["faststart-mp4", pytest.param("vp9-webm", marks=_VP9_WEBM)]
)
def test_cut_between_packets_is_truncated(
    recording_of: Callable[[str], Path], tmp_path: Path, layout: str
) -> None:
    upload = _cut_at_packet(recording_of(layout), tmp_path / "upload", seconds=9.6)

    error = _rejection(upload)

    assert error.code == "video_truncated"
    assert "of its declared 10.0 s" in error.message
    assert "视频不完整" in error.message_zh


@_VP9_WEBM
def test_cut_within_tolerance_reports_readable_duration(
    recording_of: Callable[[str], Path], tmp_path: Path
) -> None:
    upload = _cut_at_packet(recording_of("vp9-webm"), tmp_path / "upload", seconds=9.9)

    probed = probe_video(upload)

    assert probed.facts.duration_seconds == pytest.approx(9.9, abs=0.05)


@pytest.mark.parametrize(
    ("rate", "seconds", "frames_text"),
    [
        (Fraction(1, 8), 16.0, "2 frames in 16.0 s"),
        (Fraction(3), 10.0, "30 frames in 10.0 s"),
    ],
    ids=["two-frames", "three-fps"],
)
def test_low_frame_rate_is_rejected(
    tmp_path: Path, rate: Fraction, seconds: float, frames_text: str
) -> None:
    upload = _write_video(tmp_path / "upload", rate=rate, seconds=seconds)

    error = _rejection(upload)

    assert error.code == "frame_rate_too_low"
    assert frames_text in error.message
    assert "at 5 frames per second or more" in error.message
    assert "每秒不到 5 帧" in error.message_zh


def test_minimum_frame_rate_is_accepted(tmp_path: Path) -> None:
    upload = _write_video(tmp_path / "upload", rate=Fraction(5), seconds=6)

    probed = probe_video(upload)

    assert probed.facts.frame_rate == pytest.approx(5.0)


@pytest.mark.parametrize(
    ("source", "content_type"),
    [
        ({"container_format": "mp4"}, "video/mp4"),
        ({"container_format": "mov"}, "video/quicktime"),
        ({"container_format": "3gp"}, "video/3gpp"),
        ({"container_format": "3g2"}, "video/3gpp2"),
        ({"container_format": "matroska"}, "video/x-matroska"),
        pytest.param(
            {"container_format": "matroska", "codec": "libvpx-vp9"},
            "video/webm",
            marks=_requires_encoders("libvpx-vp9"),
        ),
        pytest.param(
            {"container_format": "webm", "codec": "libvpx", "audio_codec": "libopus"},
            "video/webm",
            marks=_requires_encoders("libvpx", "libopus"),
        ),
        pytest.param(
            {"container_format": "webm", "codec": "libaom-av1"},
            "video/webm",
            marks=_requires_encoders("libaom-av1"),
        ),
    ],
    ids=["mp4", "mov", "3gp", "3g2", "h264-mkv", "vp9-mkv", "vp8-webm", "av1-webm"],
)
def test_content_type_follows_container(
    tmp_path: Path, source: _Recording, content_type: str
) -> None:
    upload = _write_video(tmp_path / "upload", seconds=6, **source)

    probed = probe_video(upload)

    assert probed.content_type == content_type


@_requires_encoders("libaom-av1")
def test_av1_codec_has_its_standard_name(tmp_path: Path) -> None:
    upload = _write_video(
        tmp_path / "upload", container_format="webm", codec="libaom-av1", seconds=6
    )

    probed = probe_video(upload)

    assert probed.facts.codec == "av1"


@pytest.mark.parametrize(
    ("source", "format_name"),
    [
        ({"container_format": "mpegts", "audio_codec": "aac"}, "(mpegts)"),
        ({"container_format": "avi", "codec": "mpeg4"}, "(avi)"),
        ({"container_format": "flv", "audio_codec": "aac"}, "(flv)"),
        ({"container_format": "h264"}, "raw H.264 video container (h264)"),
    ],
    ids=["mpegts", "avi", "flv", "raw-h264"],
)
def test_other_container_is_rejected(
    tmp_path: Path, source: _Recording, format_name: str
) -> None:
    upload = _write_video(tmp_path / "upload", seconds=6, **source)

    error = _rejection(upload)

    assert error.code == "unsupported_container"
    assert format_name in error.message
    assert "MP4, MOV, 3GP, WebM or Matroska" in error.message
    assert "不支持这种视频文件格式" in error.message_zh


@pytest.mark.parametrize(
    "size",
    [(400, 300), (300, 400), (240, 320)],
    ids=["landscape", "portrait", "portrait-minimum"],
)
def test_resolution_accepts_either_orientation(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    width, height = size
    upload = _write_video(tmp_path / "upload", seconds=6, width=width, height=height)

    probed = probe_video(upload)

    assert (probed.facts.width, probed.facts.height) == size


@pytest.mark.parametrize(
    "size",
    [(160, 120), (200, 400), (400, 200), (300, 300)],
    ids=["small", "narrow", "low", "square"],
)
def test_resolution_below_either_side_is_rejected(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    width, height = size
    upload = _write_video(tmp_path / "upload", seconds=6, width=width, height=height)

    error = _rejection(upload)

    assert error.code == "resolution_too_low"
    assert f"is {width}x{height}" in error.message
    assert "shorter side must be at least 240" in error.message
    assert "longer side at least 320 pixels" in error.message
    assert "清晰度太低" in error.message_zh


def test_low_resolution_video_is_rejected(tmp_path: Path) -> None:
    small = write_walkaround_video(
        tmp_path / "small.mp4", seconds=6, width=160, height=120
    )

    error = _rejection(small)

    assert error.code == "resolution_too_low"


@pytest.mark.parametrize("codec", ["png", "mjpeg"])
def test_photo_is_a_still_image(tmp_path: Path, codec: str) -> None:
    upload = _write_still(tmp_path / f"photo.{codec}", codec)
    upload = upload.rename(tmp_path / "upload")

    error = _rejection(upload)

    assert error.code == "still_image"
    assert "_pipe), not a video" in error.message
    assert "不是视频" in error.message_zh


@_requires_encoders("libaom-av1")
def test_avif_photo_is_a_still_image(tmp_path: Path) -> None:
    upload = tmp_path / "upload"
    with av.open(str(upload), mode="w", format="avif") as out:
        picture = out.add_stream("libaom-av1", rate=1)
        assert isinstance(picture, av.VideoStream)
        picture.width = 320
        picture.height = 240
        picture.pix_fmt = "yuv420p"
        picture.options = {"cpu-used": "8", "still-picture": "1"}
        image = np.zeros((240, 320, 3), dtype=np.uint8)
        out.mux(picture.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(picture.encode())

    error = _rejection(upload)

    assert error.code == "still_image"
    assert "HEIF or AVIF image (brand avif)" in error.message


@pytest.mark.parametrize(
    "source",
    [{"codec": "libx264"}, {"container_format": "mov", "codec": "png"}],
    ids=["h264-mp4", "png-mov"],
)
def test_single_frame_is_a_still_image(tmp_path: Path, source: _Recording) -> None:
    upload = _write_video(
        tmp_path / "upload", rate=Fraction(1, 10), seconds=10, **source
    )

    error = _rejection(upload)

    assert error.code == "still_image"
    assert "a single picture, not a video" in error.message
    assert "不是视频" in error.message_zh


def test_short_video_is_rejected(video: Path) -> None:
    error = _rejection(video, VideoLimits(min_seconds=10))

    assert error.code == "video_too_short"
    assert "at least 10 s" in error.message
    assert "至少 10 秒" in error.message_zh


def test_short_video_message_does_not_round_up(tmp_path: Path) -> None:
    upload = _write_video(tmp_path / "upload", seconds=4.96)

    error = _rejection(upload)

    assert error.code == "video_too_short"
    assert "lasts 4.9 s" in error.message
    assert "at least 5 s" in error.message
    assert "4.9 秒" in error.message_zh


def test_long_video_message_does_not_round_down(tmp_path: Path) -> None:
    upload = _write_video(tmp_path / "upload", seconds=5.04)

    error = _rejection(upload, VideoLimits(max_seconds=5))

    assert error.code == "video_too_long"
    assert "lasts 5.1 s" in error.message
    assert "the limit is 5 s" in error.message
