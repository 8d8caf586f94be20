"""Ways to deliver a text message."""

from typing import Protocol

import asyncpg
import httpx
import structlog

from common.db import Connection
from common.logging import mask_phone_numbers
from common.sealing import Purpose, lookup_hash, seal
from services.notify.gateway import HttpSmsProvider
from services.notify.settings import NotifySettings

log = structlog.get_logger(__name__)


class SmsProvider(Protocol):
    name: str

    async def send(
        self,
        message_id: str,
        phone: str,
        body: str,
        connection: Connection | None = None,
    ) -> None:
        """Send one text; ``connection`` is the caller's open transaction.

        A provider that records its deliveries in notify's database writes them in
        that transaction, so they commit with the message's sent mark.
        """
        ...


class LocalSmsProvider:
    """Delivers to a table instead of a phone, one row per send, and logs each send.

    The number is stored sealed, with its keyed hash for the phones of the demo and
    the tests to find their texts by.
    """

    name = "local"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def send(
        self,
        message_id: str,
        phone: str,
        body: str,
        connection: Connection | None = None,
    ) -> None:
        # In the caller's transaction the delivery commits with the sent mark, so
        # a crash between the two leaves neither, and the retry delivers once.
        await (connection or self._pool).execute(
            "INSERT INTO local_deliveries (message_id, phone, phone_hash, body)"
            " VALUES ($1, $2, $3, $4)",
            message_id,
            seal(phone, Purpose.PHONE),
            lookup_hash(phone, Purpose.PHONE),
            body,
        )
        # The body may carry a one-time code or a case link, so it is not logged.
        log.info(
            "sms delivered locally",
            message_id=message_id,
            phone=mask_phone_numbers(phone),
        )


def make_provider(
    settings: NotifySettings, pool: asyncpg.Pool, http: httpx.AsyncClient
) -> SmsProvider:
    if settings.notify_provider == "local":
        return LocalSmsProvider(pool)
    if settings.notify_provider == "http":
        if not settings.notify_gateway_url:
            raise ValueError("DINGZE_NOTIFY_GATEWAY_URL is required with provider http")
        return HttpSmsProvider(
            http,
            gateway_url=settings.notify_gateway_url,
            api_key=settings.notify_gateway_api_key.get_secret_value(),
            receipt_url=settings.receipt_url(),
            attempts=settings.notify_gateway_attempts,
        )
    raise ValueError(
        f"unknown SMS provider {settings.notify_provider!r}; "
        "set DINGZE_NOTIFY_PROVIDER to local or http"
    )
