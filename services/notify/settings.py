"""The notify service's settings."""

from common.settings import PlatformSettings


class NotifySettings(PlatformSettings):
    notify_host: str = "127.0.0.1"
    notify_port: int = 8104
    notify_provider: str = "local"
