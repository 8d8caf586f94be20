"""Ways to deliver a text message."""

from typing import Protocol

import asyncpg
import structlog

log = structlog.get_logger(__name__)


class SmsProvider(Protocol):
    name: str

    async def send(self, message_id: str, phone: str, body: str) -> None: ...


class LocalSmsProvider:
    """Delivers to a table instead of a phone, one row per send, and logs each send."""

    name = "local"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def send(self, message_id: str, phone: str, body: str) -> None:
        await self._pool.execute(
            "INSERT INTO local_deliveries (message_id, phone, body)"
            " VALUES ($1, $2, $3)",
            message_id,
            phone,
            body,
        )
        # The body may carry a one-time code or a case link, so it is not logged.
        log.info("sms delivered locally", message_id=message_id, phone=phone)


def make_provider(name: str, pool: asyncpg.Pool) -> SmsProvider:
    if name == "local":
        return LocalSmsProvider(pool)
    raise ValueError(f"unknown SMS provider {name!r}; set DINGZE_NOTIFY_PROVIDER=local")
