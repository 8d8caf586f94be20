"""Tell what a file is from its first bytes, whatever its name or declared type.

Phones name and label files loosely, so an upload's declared content type is only
checked against what its first bytes show.
"""

from dataclasses import dataclass
from typing import Literal

HEAD_BYTES = 64
EvidenceKind = Literal["video", "photo"]

# Major brands of HEIF images (ISO/IEC 23008-12), which phones save photos as.
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1"})
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"

# Each accepted content type, with the kind of evidence it is and the family of
# containers its bytes belong to.
ACCEPTED_TYPES: dict[str, tuple[EvidenceKind, str]] = {
    "video/mp4": ("video", "iso-bmff"),
    "video/quicktime": ("video", "iso-bmff"),
    "video/3gpp": ("video", "iso-bmff"),
    "video/webm": ("video", "matroska"),
    "video/x-matroska": ("video", "matroska"),
    "image/jpeg": ("photo", "jpeg"),
    "image/png": ("photo", "png"),
    "image/heic": ("photo", "heif"),
    "image/heif": ("photo", "heif"),
}


@dataclass(frozen=True)
class Sniffed:
    """The file type found in the first bytes: container family and content type."""

    family: str
    content_type: str
    kind: EvidenceKind


def sniff(head: bytes) -> Sniffed | None:
    """Return what ``head`` (the first bytes of a file) is, or None if unknown."""
    if head.startswith(_JPEG_MAGIC):
        return Sniffed("jpeg", "image/jpeg", "photo")
    if head.startswith(_PNG_MAGIC):
        return Sniffed("png", "image/png", "photo")
    if head.startswith(_EBML_MAGIC):
        # The EBML header names the document type near the start of the file.
        webm = b"webm" in head[:HEAD_BYTES]
        return Sniffed(
            "matroska", "video/webm" if webm else "video/x-matroska", "video"
        )
    if head[4:8] == b"ftyp":
        return _sniff_brand(head[8:12])
    # QuickTime files may start with another atom than ftyp.
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip"):
        return Sniffed("iso-bmff", "video/quicktime", "video")
    return None


def _sniff_brand(brand: bytes) -> Sniffed:
    """Tell an ISO base media file by the major brand of its ftyp box."""
    if brand in _HEIF_BRANDS:
        return Sniffed("heif", "image/heic", "photo")
    if brand == b"qt  ":
        return Sniffed("iso-bmff", "video/quicktime", "video")
    if brand.startswith(b"3g"):
        return Sniffed("iso-bmff", "video/3gpp", "video")
    return Sniffed("iso-bmff", "video/mp4", "video")


def matches_declared(sniffed: Sniffed | None, declared: str) -> bool:
    """Return whether the bytes belong to the declared type's container family."""
    accepted = ACCEPTED_TYPES.get(declared)
    return (
        sniffed is not None and accepted is not None and sniffed.family == accepted[1]
    )
