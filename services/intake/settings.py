"""Intake's settings."""

from common.settings import PlatformSettings


class IntakeSettings(PlatformSettings):
    intake_host: str = "127.0.0.1"
    intake_port: int = 8101
    intake_max_video_bytes: int = 1024**3
