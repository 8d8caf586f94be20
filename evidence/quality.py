"""Keyframe thumbnails for the officer, and quality signals that warn but never reject.

A handful of frames is decoded at evenly spaced keyframes. Each becomes a JPEG
thumbnail, and its luma gives two signals: the mean brightness (too dark) and the
variance of a Laplacian (too blurred). Both are measured on frames scaled to one
width, so the thresholds do not depend on the recording's resolution.
"""

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.container import InputContainer
from av.video.codeccontext import VideoCodecContext

from contracts.case import EvidenceFinding, FindingSeverity
from evidence.containers import open_container, video_stream

THUMBNAIL_WIDTH = 320
_ANALYSIS_WIDTH = 640
# Phones write a keyframe every 1-2 s. A file with sparse keyframes costs at most
# this many decoded frames per thumbnail, and then shows the frame reached.
_MAX_DECODED = 300


@dataclass(frozen=True)
class QualityThresholds:
    """Thresholds below which the quality signals warn.

    Luma is on FFmpeg's 8-bit gray scale (0 black, 255 white). The sharpness is the
    variance of a 4-neighbour Laplacian over a frame scaled to 640 pixels wide.
    """

    min_mean_luma: float = 40.0
    # NOTE: calibrated on synthetic frames only: a textured street scene measures
    # about 790 and the same scene without texture about 6. Real phone footage
    # has not been measured.
    min_sharpness: float = 50.0
    # Walking around two parked cars at a slow pace takes about 20 s; a shorter
    # video may miss a side of a vehicle.
    walkaround_seconds: float = 20.0


@dataclass(frozen=True)
class FrameSample:
    """JPEG thumbnails of the sampled keyframes, and their luma statistics."""

    thumbnails: list[bytes]
    mean_luma: float
    sharpness: float
    # Each thumbnail's presentation time in seconds, as a player's currentTime.
    seconds: list[float] = field(default_factory=list)


def sample_frames(path: Path, count: int = 5) -> FrameSample:
    """Decode up to ``count`` keyframes spread over the video and describe them."""
    frames = _keyframes(path, count)
    if not frames:
        return FrameSample(thumbnails=[], mean_luma=0.0, sharpness=0.0)
    lumas = [_luma(frame) for frame in frames]
    return FrameSample(
        thumbnails=[_jpeg(frame) for frame in frames],
        seconds=[round(frame.time or 0.0, 2) for frame in frames],
        mean_luma=float(np.mean([luma.mean() for luma in lumas])),
        # The median keeps one sharp or one shaky frame from deciding alone.
        sharpness=float(np.median([_laplacian_variance(luma) for luma in lumas])),
    )


def quality_findings(
    sample: FrameSample, duration_seconds: float, thresholds: QualityThresholds
) -> list[EvidenceFinding]:
    """Return a warning for each quality signal below its threshold."""
    findings = []
    if sample.mean_luma < thresholds.min_mean_luma:
        findings.append(
            EvidenceFinding(
                code="too_dark",
                severity=FindingSeverity.WARN,
                message=f"Warning: the video is dark (mean luma {sample.mean_luma:.0f} "
                f"of 255, below {thresholds.min_mean_luma:g}); plates and damage "
                "may be hard to see",
                message_zh="提示：视频画面偏暗，车牌和损伤可能看不清。",
            )
        )
    if sample.sharpness < thresholds.min_sharpness:
        findings.append(
            EvidenceFinding(
                code="too_blurred",
                severity=FindingSeverity.WARN,
                message=f"Warning: the video looks blurred (sharpness "
                f"{sample.sharpness:.1f}, below {thresholds.min_sharpness:g}); "
                "plates and damage may be hard to read",
                message_zh="提示：视频画面模糊，车牌和损伤可能看不清。",
            )
        )
    if duration_seconds < thresholds.walkaround_seconds:
        findings.append(
            EvidenceFinding(
                code="too_short_for_walkaround",
                severity=FindingSeverity.WARN,
                message=f"Warning: the video lasts {duration_seconds:.1f} s, less "
                f"than the {thresholds.walkaround_seconds:g} s a walk around two "
                "vehicles takes; a side of a vehicle may be missing",
                message_zh="提示：视频较短，可能没有拍全车辆的各个侧面。",
            )
        )
    return findings


def _keyframes(path: Path, count: int) -> list[av.VideoFrame]:
    frames: list[av.VideoFrame] = []
    seen: set[int] = set()
    with path.open("rb") as file, open_container(path, file) as container:
        stream = video_stream(container)
        time_base = stream.time_base or Fraction(1, 1000)
        start = stream.start_time or 0
        duration = stream.duration
        if duration is None and container.duration is not None:
            duration = int(container.duration / av.time_base / time_base)
        for index in range(count):
            target = start + int((duration or 0) * (index + 0.5) / count)
            frame = _frame_at(container, stream, target)
            if frame is None or frame.pts is None or frame.pts in seen:
                continue
            seen.add(frame.pts)
            frames.append(frame)
    return frames


def _frame_at(
    container: InputContainer, stream: av.VideoStream, target: int
) -> av.VideoFrame | None:
    """Decode from the keyframe before ``target`` up to the frame at ``target``."""
    # Seeking lands on the keyframe at or before the target.
    container.seek(target, stream=stream, backward=True)
    found = None
    for decoded, frame in enumerate(container.decode(stream)):
        found = frame
        if frame.pts is None or frame.pts >= target or decoded >= _MAX_DECODED:
            break
    return found


def _luma(frame: av.VideoFrame) -> np.ndarray:
    height = _even(frame.height * _ANALYSIS_WIDTH / frame.width)
    scaled = frame.reformat(width=_ANALYSIS_WIDTH, height=height, format="gray")
    return scaled.to_ndarray().astype(np.float32)


def _laplacian_variance(luma: np.ndarray) -> float:
    laplacian = (
        luma[1:-1, 2:]
        + luma[1:-1, :-2]
        + luma[2:, 1:-1]
        + luma[:-2, 1:-1]
        - 4 * luma[1:-1, 1:-1]
    )
    return float(laplacian.var())


def _jpeg(frame: av.VideoFrame) -> bytes:
    height = _even(frame.height * THUMBNAIL_WIDTH / frame.width)
    image = frame.reformat(width=THUMBNAIL_WIDTH, height=height, format="yuvj420p")
    encoder = av.CodecContext.create("mjpeg", "w")
    assert isinstance(encoder, VideoCodecContext)
    encoder.width = THUMBNAIL_WIDTH
    encoder.height = height
    encoder.pix_fmt = "yuvj420p"
    encoder.time_base = Fraction(1, 25)
    packets = encoder.encode(image) + encoder.encode(None)
    return b"".join(bytes(packet) for packet in packets)


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)
