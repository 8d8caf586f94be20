"""Make a synthetic walk-around video: two coloured boxes seen from a moving camera."""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import av
import numpy as np


@dataclass(frozen=True)
class RecordingTags:
    """Metadata to write into the sample video, as phones do.

    ``apple`` writes Apple's ``com.apple.quicktime.*`` keys into a QuickTime file;
    otherwise the MP4 carries ``creation_time`` and the ``©xyz`` location atom.
    """

    recorded_at: datetime | None = None
    latitude: float | None = None
    longitude: float | None = None
    apple: bool = False


def write_walkaround_video(
    path: Path,
    seconds: float = 8.0,
    width: int = 640,
    height: int = 360,
    fps: int = 25,
    *,
    tags: RecordingTags | None = None,
    brightness: float = 1.0,
    textured: bool = True,
    grain: int = 0,
) -> Path:
    """Write an H.264 MP4 (a QuickTime file with Apple tags) and return its path.

    ``brightness`` scales every pixel, and ``textured`` adds the fine detail of a
    real street. A scene without texture has almost no edges and reads as blurred.
    ``grain`` (0-255) adds random noise of that amplitude to every pixel. Noise does
    not compress, so it makes a file of many megabytes per second, for tests that
    need large uploads.
    """
    tags = tags or RecordingTags()
    container_format = "mov" if tags.apple else "mp4"
    options = {"movflags": "use_metadata_tags"} if tags.apple else {}
    texture = _texture(width, height) if textured else None
    rng = np.random.default_rng(seed=0)
    with av.open(
        str(path), mode="w", format=container_format, options=options
    ) as container:
        container.metadata.update(_metadata(tags))
        stream = container.add_stream("libx264", rate=fps)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        # A keyframe every second, as phone cameras write them.
        stream.options = {"preset": "ultrafast", "crf": "30", "g": str(fps)}
        frames = int(seconds * fps)
        for index in range(frames):
            image = _scene(index / frames, width, height, texture, brightness)
            if grain:
                noise = rng.integers(-grain, grain + 1, image.shape, dtype=np.int16)
                image = np.clip(image + noise, 0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def iso6709(latitude: float, longitude: float) -> str:
    """Format a point as phones write it in ISO 6709, for example +30.2741+120.1551/."""
    return f"{latitude:+08.4f}{longitude:+09.4f}/"


def _metadata(tags: RecordingTags) -> dict[str, str]:
    metadata = {}
    has_point = tags.latitude is not None and tags.longitude is not None
    point = iso6709(tags.latitude or 0.0, tags.longitude or 0.0)
    if tags.apple:
        if tags.recorded_at is not None:
            metadata["com.apple.quicktime.creationdate"] = tags.recorded_at.isoformat()
        if has_point:
            metadata["com.apple.quicktime.location.ISO6709"] = point
        return metadata
    if tags.recorded_at is not None:
        recorded = tags.recorded_at.astimezone(UTC)
        metadata["creation_time"] = recorded.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if has_point:
        metadata["location"] = point
    return metadata


def _texture(width: int, height: int) -> np.ndarray:
    # A fixed pattern of 4-pixel cells, like asphalt and bodywork seen up close.
    cells = np.random.default_rng(7).integers(-1, 2, (height // 4 + 1, width // 4 + 1))
    pattern = (cells * 25).repeat(4, axis=0).repeat(4, axis=1)
    return pattern[:height, :width].astype(np.int16)


def _scene(
    progress: float,
    width: int,
    height: int,
    texture: np.ndarray | None,
    brightness: float,
) -> np.ndarray:
    image = np.full((height, width, 3), (90, 90, 96), dtype=np.int16)
    image[height * 2 // 3 :, :] = (60, 60, 64)
    shift = int(progress * width)
    if texture is not None:
        image += np.roll(texture, -shift, axis=1)[:, :, None]
    for offset, colour in ((width // 5, (200, 30, 30)), (width // 2, (30, 60, 200))):
        left = (offset - shift) % width
        right = min(left + width // 4, width)
        image[height // 3 : height * 3 // 4, left:right] = colour
    return (image * brightness).clip(0, 255).astype(np.uint8)
