"""The limits a walk-around video must meet, and the messages when it does not."""

import math
from dataclasses import dataclass

from contracts.case import EvidenceFacts
from evidence.errors import VideoRejectedError, still_image_error

ACCEPTED_CODECS = frozenset({"h264", "hevc", "mpeg4", "vp8", "vp9", "av1"})


@dataclass(frozen=True)
class VideoLimits:
    """Limits a walk-around video must meet.

    The sides are in pixels and are compared whatever the orientation, so portrait
    and landscape recordings of the same size are treated alike.
    """

    min_seconds: float = 5.0
    max_seconds: float = 600.0
    min_short_side: int = 240
    min_long_side: int = 320
    # Phones record at 24-60 fps and drop to about 15 fps in low light. An average
    # below 5 fps is a time-lapse, a slideshow or a few stills joined together.
    min_frame_rate: float = 5.0


def check_limits(facts: EvidenceFacts, frames: int, limits: VideoLimits) -> None:
    if frames <= 1:
        raise still_image_error("a single picture")
    if facts.codec not in ACCEPTED_CODECS:
        raise VideoRejectedError(
            "unsupported_codec",
            f"video codec {facts.codec} is not accepted; record in H.264 or H.265",
            "视频编码格式不受支持，请用手机相机重新录制。",
        )
    _check_duration(facts.duration_seconds, limits)
    _check_frame_rate(facts, frames, limits)
    _check_resolution(facts, limits)


def _check_duration(seconds: float, limits: VideoLimits) -> None:
    # Round toward the failed side, so that 4.96 s never shows as the 5 s minimum.
    if seconds < limits.min_seconds:
        rounded = _round_down(seconds)
        raise VideoRejectedError(
            "video_too_short",
            f"the video lasts {rounded} s; walk around the vehicles "
            f"for at least {limits.min_seconds:g} s",
            f"视频太短（{rounded} 秒），请绕车辆拍摄至少 {limits.min_seconds:g} 秒。",
        )
    if seconds > limits.max_seconds:
        rounded = _round_up(seconds)
        raise VideoRejectedError(
            "video_too_long",
            f"the video lasts {rounded} s; the limit is {limits.max_seconds:g} s",
            f"视频超过 {limits.max_seconds:g} 秒，请拍摄较短的视频。",
        )


def _check_frame_rate(facts: EvidenceFacts, frames: int, limits: VideoLimits) -> None:
    if facts.frame_rate is None or facts.frame_rate >= limits.min_frame_rate:
        return
    raise VideoRejectedError(
        "frame_rate_too_low",
        f"the video has {frames} frames in {facts.duration_seconds:.1f} s, "
        f"{_round_down(facts.frame_rate)} frames per second; record a continuous "
        f"video at {limits.min_frame_rate:g} frames per second or more, "
        "not a time-lapse or a slideshow",
        f"视频画面不连续（每秒不到 {limits.min_frame_rate:g} 帧），请用手机相机的"
        "普通录像模式重新拍摄，不要用延时摄影或照片合成的视频。",
    )


def _check_resolution(facts: EvidenceFacts, limits: VideoLimits) -> None:
    short_side, long_side = sorted((facts.width, facts.height))
    if short_side < limits.min_short_side or long_side < limits.min_long_side:
        raise VideoRejectedError(
            "resolution_too_low",
            f"the video is {facts.width}x{facts.height}; its shorter side must be "
            f"at least {limits.min_short_side} and its longer side at least "
            f"{limits.min_long_side} pixels to read plates",
            "视频清晰度太低，无法看清车牌，请重新录制。",
        )


def _round_down(value: float) -> str:
    return f"{math.floor(value * 10) / 10:.1f}"


def _round_up(value: float) -> str:
    return f"{math.ceil(value * 10) / 10:.1f}"
