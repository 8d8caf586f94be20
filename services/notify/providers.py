"""Ways to deliver a text message."""

from typing import Protocol

import structlog

log = structlog.get_logger(__name__)


class SmsProvider(Protocol):
    name: str

    async def send(self, message_id: str, phone: str, body: str) -> None: ...


class LocalSmsProvider:
    """Delivers nowhere: the message row in PostgreSQL and a log line are the record."""

    name = "local"

    async def send(self, message_id: str, phone: str, body: str) -> None:
        # The log processor masks the phone number and any number in the body.
        log.info("sms delivered locally", message_id=message_id, phone=phone, body=body)


def make_provider(name: str) -> SmsProvider:
    if name == "local":
        return LocalSmsProvider()
    raise ValueError(f"unknown SMS provider {name!r}; set DINGZE_NOTIFY_PROVIDER=local")
