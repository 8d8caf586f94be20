"""The liability service's settings."""

from pydantic import Field

from common.settings import PlatformSettings
from identity.settings import IdentitySettings


class LiabilitySettings(PlatformSettings, IdentitySettings):
    liability_host: str = "127.0.0.1"
    liability_port: int = 8102
    liability_video_link_minutes: int = 15
    liability_workflow_timeout_seconds: float = 10.0
    liability_claim_lease_seconds: int = Field(
        default=120,
        ge=10,
        description="How long a claim lasts unless the workbench renews it",
    )
