"""Checks of the evidence a phone uploads: what the file is and whether it is whole."""

from evidence.errors import VideoRejectedError
from evidence.limits import VideoLimits
from evidence.probe import ProbedVideo, probe_stream, probe_video

__all__ = [
    "ProbedVideo",
    "VideoLimits",
    "VideoRejectedError",
    "probe_stream",
    "probe_video",
]
