"""The notify service's settings."""

from pydantic import Field, SecretStr

from common.settings import PlatformSettings
from identity.settings import IdentitySettings


class NotifySettings(PlatformSettings, IdentitySettings):
    notify_host: str = "127.0.0.1"
    notify_port: int = 8104
    notify_provider: str = Field(
        default="local", description="local (a table) or http (an SMS gateway)"
    )
    notify_gateway_url: str = Field(default="", description="Base URL of the gateway")
    notify_gateway_api_key: SecretStr = SecretStr("")
    notify_receipt_secret: SecretStr = Field(
        default=SecretStr(""),
        description="HMAC key the gateway signs its delivery receipts with",
    )
    notify_public_url: str = Field(
        default="",
        description="notify's address for receipts; empty means "
        "http://127.0.0.1:<notify port>",
    )
    notify_gateway_attempts: int = Field(default=3, ge=1)
    notify_rate_per_number: int = Field(
        default=5, ge=1, description="Messages to one phone number per window"
    )
    notify_rate_window_seconds: float = Field(default=60.0, gt=0)
    notify_deferred_poll_seconds: float = Field(
        default=1.0, gt=0, description="Seconds between scans for due deferred messages"
    )

    def receipt_url(self) -> str:
        base = self.notify_public_url or f"http://127.0.0.1:{self.notify_port}"
        return base.rstrip("/") + "/sms/receipts"
