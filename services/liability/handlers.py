"""Kafka handlers: cases arrive in the officer queue from ``case.queued``."""

import structlog
from faststream.kafka import KafkaBroker
from faststream.middlewares import AckPolicy

from common.kafka import group_name, topic_name
from common.settings import PlatformSettings
from contracts.events import CaseQueued
from services.liability.store import QueueStore

log = structlog.get_logger(__name__)


def subscribe_queue(
    broker: KafkaBroker, settings: PlatformSettings, store: QueueStore
) -> None:
    @broker.subscriber(
        topic_name(settings, CaseQueued.topic),
        group_id=group_name(settings, "liability"),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    async def on_case_queued(event: CaseQueued) -> None:
        await store.enqueue(event)
        log.info("case queued", case_id=str(event.case_id), trace_id=event.trace_id)
