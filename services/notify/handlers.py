"""Kafka handler: send each requested text message once."""

import asyncio
from datetime import UTC, datetime, timedelta

import structlog
from faststream.kafka import KafkaBroker

from common.kafka import subscribe
from contracts.events import SmsRequested
from services.notify.providers import SmsProvider
from services.notify.rate_limit import wait_before_send
from services.notify.settings import NotifySettings
from services.notify.store import MessageStore
from services.notify.templates import render, render_for_record

log = structlog.get_logger(__name__)


async def _within_rate_limit(
    store: MessageStore, settings: NotifySettings, event: SmsRequested
) -> None:
    """Wait until the phone number is under its limit of messages per window.

    NOTE: the wait blocks the message's partition, and copies of notify count
    each other's sends only once they are marked sent.
    """
    window = timedelta(seconds=settings.notify_rate_window_seconds)
    while True:
        recent = await store.recent_sends(event.phone, window)
        wait = wait_before_send(
            recent, datetime.now(UTC), settings.notify_rate_per_number, window
        )
        if wait <= timedelta(0):
            return
        log.warning(
            "sms rate limited",
            message_id=event.message_id,
            case_id=str(event.case_id),
            wait_seconds=wait.total_seconds(),
        )
        await asyncio.sleep(wait.total_seconds())


def subscribe_sms(
    broker: KafkaBroker,
    settings: NotifySettings,
    store: MessageStore,
    provider: SmsProvider,
) -> None:
    @subscribe(broker, settings, "notify", SmsRequested.topic)
    async def on_sms_requested(event: SmsRequested) -> None:
        body = render(event.template, event.variables)
        record = render_for_record(event.template, event.variables)
        if not await store.claim(event, record, provider.name):
            log.info(
                "sms already sent",
                message_id=event.message_id,
                case_id=str(event.case_id),
            )
            return
        await _within_rate_limit(store, settings, event)
        await provider.send(event.message_id, event.phone, body)
        await store.mark_sent(event.message_id)
        log.info(
            "sms sent",
            message_id=event.message_id,
            case_id=str(event.case_id),
            trace_id=event.trace_id,
            template=event.template,
        )
