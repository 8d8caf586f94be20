"""Make a synthetic walk-around video: two coloured boxes seen from a moving camera."""

from pathlib import Path

import av
import numpy as np


def write_walkaround_video(
    path: Path,
    seconds: float = 8.0,
    width: int = 640,
    height: int = 360,
    fps: int = 25,
    *,
    grain: int = 0,
) -> Path:
    """Write an H.264 MP4 of the given length and return its path.

    ``grain`` (0-255) adds random noise of that amplitude to every pixel. Noise does
    not compress, so it makes a file of many megabytes per second, for tests that
    need large uploads.
    """
    rng = np.random.default_rng(seed=0)
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "30"}
        frames = int(seconds * fps)
        for index in range(frames):
            image = _scene(index / frames, width, height)
            if grain:
                noise = rng.integers(-grain, grain + 1, image.shape, dtype=np.int16)
                image = np.clip(image + noise, 0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _scene(progress: float, width: int, height: int) -> np.ndarray:
    image = np.full((height, width, 3), (90, 90, 96), dtype=np.uint8)
    image[height * 2 // 3 :, :] = (60, 60, 64)
    shift = int(progress * width)
    for offset, colour in ((width // 5, (200, 30, 30)), (width // 2, (30, 60, 200))):
        left = (offset - shift) % width
        right = min(left + width // 4, width)
        image[height // 3 : height * 3 // 4, left:right] = colour
    return image
