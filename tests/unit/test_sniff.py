"""Content types told from the first bytes, not from names or declarations."""

import io
from pathlib import Path

import av
import numpy as np
import pytest

from evidence.sample_video import write_walkaround_video
from evidence.sniff import matches_declared, sniff


def _image(format_name: str) -> bytes:
    frame = av.VideoFrame.from_ndarray(
        np.zeros((16, 16, 3), dtype=np.uint8), format="rgb24"
    )
    buffer = io.BytesIO()
    codec = {"mjpeg": "yuvj420p", "png": "rgb24"}[format_name]
    with av.open(buffer, mode="w", format="image2pipe") as container:
        stream = container.add_stream(format_name, rate=1)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 16, 16, codec
        for packet in [*stream.encode(frame.reformat(format=codec)), *stream.encode()]:
            container.mux(packet)
    return buffer.getvalue()


def test_mp4_is_sniffed_as_video(tmp_path: Path) -> None:
    head = write_walkaround_video(tmp_path / "v.mp4", seconds=1).read_bytes()[:64]

    sniffed = sniff(head)

    assert sniffed is not None
    assert sniffed.content_type == "video/mp4"
    assert sniffed.kind == "video"
    assert matches_declared(sniffed, "video/quicktime")


@pytest.mark.parametrize(
    ("head", "content_type"),
    [
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "video/quicktime"),
        (b"\x00\x00\x00\x14ftyp3gp4\x00\x00\x00\x00", "video/3gpp"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "image/heic"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "video/webm"),
        (
            b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska",
            "video/x-matroska",
        ),
    ],
    ids=["mov", "3gp", "heic", "webm", "mkv"],
)
def test_container_headers_are_sniffed(head: bytes, content_type: str) -> None:
    sniffed = sniff(head)

    assert sniffed is not None
    assert sniffed.content_type == content_type


@pytest.mark.parametrize("format_name", ["mjpeg", "png"])
def test_images_are_sniffed_as_photos(format_name: str) -> None:
    sniffed = sniff(_image(format_name)[:64])

    assert sniffed is not None
    assert sniffed.kind == "photo"


def test_text_named_as_video_is_unknown() -> None:
    sniffed = sniff("不是视频".encode() * 10)

    assert sniffed is None
    assert not matches_declared(sniffed, "video/mp4")


def test_photo_declared_as_video_does_not_match() -> None:
    assert not matches_declared(sniff(b"\xff\xd8\xff\xe0" + bytes(60)), "video/mp4")


def test_webm_declared_as_mp4_does_not_match() -> None:
    assert not matches_declared(sniff(b"\x1a\x45\xdf\xa3" + bytes(60)), "video/mp4")
