"""The insurance service's settings."""

from pydantic import Field

from common.settings import PlatformSettings
from services.insurance.webhooks import RetryPolicy


class InsuranceSettings(PlatformSettings):
    insurance_host: str = "127.0.0.1"
    insurance_port: int = 8103
    insurance_webhook_max_attempts: int = Field(
        default=8, ge=1, description="Tries of one webhook before it is parked"
    )
    insurance_webhook_first_delay_seconds: float = Field(
        default=5.0, gt=0, description="Pause after the first failure; it doubles"
    )
    insurance_webhook_poll_seconds: float = Field(
        default=1.0, gt=0, description="Pause between scans for due webhooks"
    )
    insurance_webhook_ca_file: str = Field(
        default="",
        description="PEM file of an extra CA to trust for webhook TLS, beside the "
        "system's",
    )

    def webhook_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.insurance_webhook_max_attempts,
            first_delay_seconds=self.insurance_webhook_first_delay_seconds,
        )
