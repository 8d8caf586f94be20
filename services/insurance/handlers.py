"""Kafka handlers: rulings out to each insurer, claim updates back to the case.

Each effect is safe to repeat (event ids fixed per case and insurer, signals that
ignore what they already know), so the inbox check only saves work on redelivery.
"""

import uuid

import structlog
from faststream.kafka import KafkaBroker
from temporalio.client import Client

from common.kafka import publish_event, subscribe
from common.settings import PlatformSettings
from contracts.events import CaseRuled, ClaimOpened, ClaimSettled, InsurerNotification
from contracts.workflow import (
    CLAIM_OPENED_SIGNAL,
    CLAIM_SETTLED_SIGNAL,
    INSURER_NOTIFIED_SIGNAL,
    ClaimOpenedSignal,
    ClaimSettledSignal,
    InsurerNotified,
    case_workflow_id,
)
from services.insurance.store import InsuranceStore

log = structlog.get_logger(__name__)


def subscribe_insurance(
    broker: KafkaBroker,
    settings: PlatformSettings,
    store: InsuranceStore,
    temporal: Client,
) -> None:
    @subscribe(broker, settings, "insurance", CaseRuled.topic)
    async def on_case_ruled(event: CaseRuled) -> None:
        if await store.already_processed(event.event_id):
            return
        handle = temporal.get_workflow_handle(case_workflow_id(event.case_id))
        for insurer_code in sorted({party.insurer_code for party in event.parties}):
            notification = InsurerNotification(
                event_id=uuid.uuid5(event.event_id, insurer_code),
                case_id=event.case_id,
                trace_id=event.trace_id,
                insurer_code=insurer_code,
                accident_at=event.accident_at,
                location=event.location,
                insured_parties=[
                    p for p in event.parties if p.insurer_code == insurer_code
                ],
                ruling=event.ruling,
            )
            await publish_event(
                broker,
                settings,
                notification,
                InsurerNotification.topic_for(insurer_code),
            )
            await store.record_notification(
                event.case_id, insurer_code, notification.event_id
            )
            await handle.signal(
                INSURER_NOTIFIED_SIGNAL, InsurerNotified(insurer_code=insurer_code)
            )
        await store.mark_processed(event.event_id, CaseRuled.topic)
        log.info(
            "insurers notified", case_id=str(event.case_id), trace_id=event.trace_id
        )

    @subscribe(broker, settings, "insurance", ClaimOpened.topic)
    async def on_claim_opened(event: ClaimOpened) -> None:
        await store.record_claim_opened(
            event.case_id, event.insurer_code, event.claim_number
        )
        handle = temporal.get_workflow_handle(case_workflow_id(event.case_id))
        await handle.signal(
            CLAIM_OPENED_SIGNAL,
            ClaimOpenedSignal(
                insurer_code=event.insurer_code, claim_number=event.claim_number
            ),
        )
        log.info("claim opened", case_id=str(event.case_id), insurer=event.insurer_code)

    @subscribe(broker, settings, "insurance", ClaimSettled.topic)
    async def on_claim_settled(event: ClaimSettled) -> None:
        await store.record_claim_settled(
            event.case_id, event.insurer_code, event.claim_number, event.amount_cents
        )
        handle = temporal.get_workflow_handle(case_workflow_id(event.case_id))
        await handle.signal(
            CLAIM_SETTLED_SIGNAL,
            ClaimSettledSignal(
                insurer_code=event.insurer_code,
                claim_number=event.claim_number,
                amount_cents=event.amount_cents,
            ),
        )
        log.info(
            "claim settled", case_id=str(event.case_id), insurer=event.insurer_code
        )
