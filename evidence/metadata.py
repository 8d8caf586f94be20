"""The recording time and place that a video declares in its metadata tags."""

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from av.container import InputContainer

# Tags that carry the recording time, most precise first. Apple's creation date has
# the phone's UTC offset. FFmpeg reports the ISO base media file format's movie and
# track creation times as ``creation_time``, in UTC.
_TIME_TAGS = ("com.apple.quicktime.creationdate", "creation_time")
# Tags that carry an ISO 6709 point: Apple's key, and the 3GPP/QuickTime ``©xyz``
# atom that FFmpeg reports as ``location`` (and ``location-eng``).
_LOCATION_TAGS = ("com.apple.quicktime.location.ISO6709", "location", "location-eng")
# A muxer without a clock writes 0, which readers show as 1904 or 1970.
_EARLIEST_PLAUSIBLE = datetime(2000, 1, 1, tzinfo=UTC)
# ISO 6709 as phones write it: signed decimal degrees of latitude and longitude,
# optionally an altitude, ending with "/".
_ISO6709 = re.compile(
    r"^(?P<lat>[+-]\d{1,2}(?:\.\d+)?)(?P<lon>[+-]\d{1,3}(?:\.\d+)?)"
    r"(?:[+-]\d+(?:\.\d+)?)?(?:CRS[^/]*)?/?$"
)
_EARTH_RADIUS_METERS = 6_371_008.8

T = TypeVar("T")


@dataclass(frozen=True)
class RecordingMetadata:
    """The recording time and place a file declares; None when it declares none."""

    recorded_at: datetime | None
    latitude: float | None
    longitude: float | None
    time_tag: str | None = None
    location_tag: str | None = None


def read_recording_metadata(container: InputContainer) -> RecordingMetadata:
    """Read the recording time and GPS point from container and stream tags."""
    tag_sets = [dict(container.metadata)] + [
        dict(stream.metadata) for stream in container.streams
    ]
    recorded_at, time_tag = None, None
    for tag in _TIME_TAGS:
        recorded_at = _first(tag_sets, tag, parse_recording_time)
        if recorded_at is not None:
            time_tag = tag
            break
    point, location_tag = None, None
    for tag in _LOCATION_TAGS:
        point = _first(tag_sets, tag, parse_iso6709)
        if point is not None:
            location_tag = tag
            break
    return RecordingMetadata(
        recorded_at=recorded_at,
        latitude=None if point is None else point[0],
        longitude=None if point is None else point[1],
        time_tag=time_tag,
        location_tag=location_tag,
    )


def _first(
    tag_sets: list[dict[str, str]], tag: str, parse: Callable[[str], T | None]
) -> T | None:
    for tags in tag_sets:
        value = tags.get(tag)
        if value is None:
            continue
        parsed = parse(value)
        if parsed is not None:
            return parsed
    return None


def parse_recording_time(text: str) -> datetime | None:
    """Parse an ISO 8601 time; a time without an offset is taken as UTC."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if parsed < _EARLIEST_PLAUSIBLE:
        return None
    return parsed


def parse_iso6709(text: str) -> tuple[float, float] | None:
    """Return (latitude, longitude) of an ISO 6709 decimal-degree point, or None."""
    match = _ISO6709.match(text.strip())
    if match is None:
        return None
    latitude, longitude = float(match["lat"]), float(match["lon"])
    if abs(latitude) > 90 or abs(longitude) > 180:
        return None
    return latitude, longitude


def distance_meters(
    latitude: float, longitude: float, other_latitude: float, other_longitude: float
) -> float:
    """Return the great-circle distance between two points (haversine formula)."""
    phi1, phi2 = math.radians(latitude), math.radians(other_latitude)
    d_phi = phi2 - phi1
    d_lambda = math.radians(other_longitude - longitude)
    a = (
        math.sin(d_phi / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    )
    return 2 * _EARTH_RADIUS_METERS * math.asin(math.sqrt(a))
