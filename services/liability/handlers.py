"""Kafka handlers: the officer queue follows the case workflow's events."""

import structlog
from faststream.kafka import KafkaBroker

from common.kafka import subscribe
from common.settings import PlatformSettings
from contracts.events import (
    CaseClosed,
    CaseEscalated,
    CaseQueued,
    CaseReconsiderationRequested,
    CaseRuled,
)
from services.liability.reconsiderations import ReconsiderationStore
from services.liability.store import QueueStore

log = structlog.get_logger(__name__)


def subscribe_queue(
    broker: KafkaBroker, settings: PlatformSettings, store: QueueStore
) -> None:
    @subscribe(broker, settings, "liability", CaseQueued.topic)
    async def on_case_queued(event: CaseQueued) -> None:
        await store.enqueue(event)
        log.info("case queued", case_id=str(event.case_id), trace_id=event.trace_id)

    @subscribe(broker, settings, "liability", CaseClosed.topic)
    async def on_case_closed(event: CaseClosed) -> None:
        await store.apply_case_closed(event)

    @subscribe(broker, settings, "liability", CaseRuled.topic)
    async def on_case_ruled(event: CaseRuled) -> None:
        if not await store.apply_case_ruled(event):
            # Cases ruled through another liability database, such as a test's.
            log.info(
                "ruling of a case not in the queue ignored",
                case_id=str(event.case_id),
                trace_id=event.trace_id,
            )
            return
        log.info(
            "ruling document recorded",
            case_id=str(event.case_id),
            trace_id=event.trace_id,
            document_number=event.document_number,
        )

    @subscribe(broker, settings, "liability", CaseEscalated.topic)
    async def on_case_escalated(event: CaseEscalated) -> None:
        await store.mark_escalated(event)
        log.warning(
            "ruling overdue, case escalated",
            case_id=str(event.case_id),
            trace_id=event.trace_id,
            target_minutes=event.target_minutes,
            claimed_by=event.claimed_by,
        )


def subscribe_reconsiderations(
    broker: KafkaBroker, settings: PlatformSettings, store: ReconsiderationStore
) -> None:
    @subscribe(broker, settings, "liability", CaseReconsiderationRequested.topic)
    async def on_reconsideration_requested(
        event: CaseReconsiderationRequested,
    ) -> None:
        await store.enqueue(event)
        log.info(
            "reconsideration queued",
            case_id=str(event.case_id),
            trace_id=event.trace_id,
            document_number=event.document_number,
        )
