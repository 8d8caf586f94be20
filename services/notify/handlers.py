"""Kafka handler: send each requested text message once, or defer it.

A message over its number's rate limit is stored as deferred and the handler
returns, so a busy number never holds up the other messages of its partition.
``services.notify.sender`` sends it when the limit allows.
"""

from datetime import timedelta

import asyncpg
import structlog
from faststream.kafka import KafkaBroker

from common.kafka import subscribe
from contracts.events import SmsRequested
from services.notify.deferral import Admission, admit, mark_sent
from services.notify.providers import SmsProvider
from services.notify.settings import NotifySettings
from services.notify.templates import render, render_for_record

log = structlog.get_logger(__name__)


def subscribe_sms(
    broker: KafkaBroker,
    settings: NotifySettings,
    pool: asyncpg.Pool,
    provider: SmsProvider,
) -> None:
    window = timedelta(seconds=settings.notify_rate_window_seconds)

    @subscribe(broker, settings, "notify", SmsRequested.topic)
    async def on_sms_requested(event: SmsRequested) -> None:
        body = render(event.template, event.variables)
        fields = {
            "message_id": event.message_id,
            "case_id": str(event.case_id),
            "trace_id": event.trace_id,
        }
        admission, wait = await admit(
            pool,
            event,
            record_body=render_for_record(event.template, event.variables),
            send_body=body,
            provider=provider.name,
            limit=settings.notify_rate_per_number,
            window=window,
        )
        if admission is Admission.DONE:
            log.info("sms already handled", **fields)
            return
        if admission is Admission.DEFERRED:
            log.warning(
                "sms rate limited, deferred",
                wait_seconds=wait.total_seconds(),
                **fields,
            )
            return
        async with pool.acquire() as connection, connection.transaction():
            await provider.send(event.message_id, event.phone, body, connection)
            await mark_sent(connection, event.message_id)
        log.info("sms sent", template=event.template, **fields)
