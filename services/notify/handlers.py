"""Kafka handler: send each requested text message once."""

import structlog
from faststream.kafka import KafkaBroker

from common.kafka import subscribe
from common.settings import PlatformSettings
from contracts.events import SmsRequested
from services.notify.providers import SmsProvider
from services.notify.store import MessageStore
from services.notify.templates import render, render_for_record

log = structlog.get_logger(__name__)


def subscribe_sms(
    broker: KafkaBroker,
    settings: PlatformSettings,
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
        await provider.send(event.message_id, event.phone, body)
        await store.mark_sent(event.message_id)
        log.info(
            "sms sent",
            message_id=event.message_id,
            case_id=str(event.case_id),
            trace_id=event.trace_id,
            template=event.template,
        )
