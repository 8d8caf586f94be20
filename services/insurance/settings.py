"""The insurance service's settings."""

from common.settings import PlatformSettings


class InsuranceSettings(PlatformSettings):
    insurance_host: str = "127.0.0.1"
    insurance_port: int = 8103
