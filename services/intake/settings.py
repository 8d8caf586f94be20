"""Intake's settings."""

from pydantic import Field

from common.settings import PlatformSettings


class IntakeSettings(PlatformSettings):
    intake_host: str = "127.0.0.1"
    intake_port: int = 8101
    intake_max_video_bytes: int = 1024**3
    intake_publish_timeout_seconds: float = 10.0
    intake_remote_max_vehicles: int = Field(
        default=3,
        ge=2,
        description="Most vehicles a case may involve and still be settled remotely",
    )
