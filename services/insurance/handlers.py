"""Kafka handlers: rulings and replaced rulings out to each insurer, claim updates
back to the case.

A ruling's notifications go to the outbox in one transaction with the inbox entry,
so a redelivered ruling queues nothing twice. Signals to the workflow are sent
again on redelivery, which the workflow ignores when it has already recorded them.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import structlog
from faststream.kafka import KafkaBroker
from pydantic import BaseModel
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from common.kafka import ensure_topics, subscribe
from common.kafka_retry import PermanentMessageError
from common.sealing import Purpose, unseal
from common.settings import PlatformSettings
from contracts.documents import ReconsiderationOutcome
from contracts.events import (
    CaseReconsidered,
    CaseRuled,
    ClaimAssessed,
    ClaimOpened,
    ClaimRefused,
    ClaimSettled,
    InsurerNotification,
    InsurerReminder,
    InsurerSettlementConfirmed,
    SealedSettlementConfirmed,
    SettlementConfirmed,
    SettlementEscalated,
)
from contracts.settlement import (
    PayeeAccount,
    SealedPayee,
    SettlementConfirmedSignal,
)
from contracts.workflow import (
    CLAIM_ASSESSED_SIGNAL,
    CLAIM_OPENED_SIGNAL,
    CLAIM_REFUSED_SIGNAL,
    CLAIM_SETTLED_SIGNAL,
    INSURER_NOTIFIED_SIGNAL,
    SETTLEMENT_CONFIRMED_SIGNAL,
    ClaimAssessedSignal,
    ClaimOpenedSignal,
    ClaimRefusedSignal,
    ClaimSettledSignal,
    InsurerNotified,
    case_workflow_id,
)
from services.insurance.claim_checks import (
    ClaimEvent,
    ClaimEventRejectedError,
    ClaimNotOpenedError,
    check_claim_event,
)
from services.insurance.minimisation import (
    IncompleteReconsiderationError,
    notification_for,
    replacements_for,
)
from services.insurance.store import InsuranceStore

log = structlog.get_logger(__name__)
# An opening and the next event of its claim travel on different topics, so the
# next one may come first. It waits this long in the handler before a retry.
OPENING_WAIT_SECONDS = 5.0
OPENING_POLL_SECONDS = 0.25


async def _check_claim_event(store: InsuranceStore, event: ClaimEvent) -> None:
    """Raise unless the event may reach the case workflow (see ``claim_checks``).

    A rejected event raises ClaimEventRejectedError, which sends it to the
    dead-letter topic with the reason.
    """
    waited = 0.0
    while True:
        try:
            check_claim_event(event, await store.claim_standing(event))
        except ClaimNotOpenedError:
            if waited >= OPENING_WAIT_SECONDS:
                raise
            await asyncio.sleep(OPENING_POLL_SECONDS)
            waited += OPENING_POLL_SECONDS
            continue
        except ClaimEventRejectedError as error:
            log.warning(
                "claim event rejected",
                case_id=str(event.case_id),
                trace_id=event.trace_id,
                insurer=event.insurer_code,
                topic=event.topic,
                reason=error.code,
                error=error.message,
            )
            raise
        return


async def _signal_case(
    temporal: Client, case_id: UUID, signal: str, argument: BaseModel
) -> bool:
    """Signal the case workflow; return False if no running workflow has that case.

    An event for an unknown or closed case can never succeed, so it is logged and
    dropped instead of being retried forever.
    """
    handle = temporal.get_workflow_handle(case_workflow_id(case_id))
    try:
        await handle.signal(signal, argument)
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        log.warning(
            "event for unknown or closed case dropped",
            case_id=str(case_id),
            signal=signal,
            error=error.message,
        )
        return False
    return True


def _log_handed(
    message: str,
    event: InsurerReminder | SettlementEscalated,
    insurers: list[str],
    inactive: list[str] | None,
) -> None:
    fields = {"case_id": str(event.case_id), "trace_id": event.trace_id}
    if inactive is None:
        log.info("event already handled", model=type(event).__name__, **fields)
        return
    if inactive:
        log.warning("not sent to inactive insurers", insurers=inactive, **fields)
    sent = sorted(set(insurers) - set(inactive))
    if sent:
        log.info(message, insurers=sent, **fields)


def open_payee(sealed: SealedPayee) -> PayeeAccount:
    """Return the payee with its account number opened, for the claim's insurer."""
    return PayeeAccount(
        account_holder=sealed.account_holder,
        bank=sealed.bank,
        account_number=unseal(sealed.account_number_sealed, Purpose.PAYEE_ACCOUNT),
    )


def subscribe_insurance(
    broker: KafkaBroker,
    settings: PlatformSettings,
    store: InsuranceStore,
    temporal: Client,
) -> None:
    # The insurers' topics this process has made sure exist.
    insurer_topics: set[str] = set()
    _subscribe_rulings(broker, settings, store, temporal, insurer_topics)
    _subscribe_claims(broker, settings, store, temporal, insurer_topics)


def _subscribe_rulings(
    broker: KafkaBroker,
    settings: PlatformSettings,
    store: InsuranceStore,
    temporal: Client,
    insurer_topics: set[str],
) -> None:
    """Send first and replaced rulings out to the insurers of each case."""

    async def ensure_insurer_topics(insurer_codes: list[str]) -> None:
        for code in insurer_codes:
            topic = InsurerNotification.topic_for(code)
            if topic not in insurer_topics:
                await ensure_topics(settings, [topic])
                insurer_topics.add(topic)

    @subscribe(broker, settings, "insurance", CaseRuled.topic)
    async def on_case_ruled(event: CaseRuled) -> None:
        insurer_codes = sorted({party.insurer_code for party in event.parties})
        notifications = [notification_for(event, code) for code in insurer_codes]
        await ensure_insurer_topics(insurer_codes)
        delivery = await store.record_ruling(event, notifications)
        if delivery.inactive:
            log.warning(
                "ruling not sent to inactive insurers",
                case_id=str(event.case_id),
                trace_id=event.trace_id,
                insurers=delivery.inactive,
            )
        # Signalled on every delivery: the workflow ignores a repeated signal, and
        # a crash after the commit must not leave the case waiting for it.
        for code in delivery.notified:
            await _signal_case(
                temporal,
                event.case_id,
                INSURER_NOTIFIED_SIGNAL,
                InsurerNotified(insurer_code=code),
            )
        log.info(
            "insurers notified" if delivery.first else "ruling already handled",
            case_id=str(event.case_id),
            trace_id=event.trace_id,
            insurers=delivery.notified,
        )

    @subscribe(broker, settings, "insurance", CaseReconsidered.topic)
    async def on_case_reconsidered(event: CaseReconsidered) -> None:
        """Send a replaced ruling to the case's insurers. A confirmed ruling stays."""
        fields = {
            "case_id": str(event.case_id),
            "trace_id": event.trace_id,
            "document_number": event.document_number,
        }
        if event.outcome != ReconsiderationOutcome.REPLACED:
            log.info("reconsideration kept the ruling, insurers not notified", **fields)
            return
        try:
            replacements = replacements_for(event)
        except IncompleteReconsiderationError as error:
            # Retrying cannot add the missing fields, so the event goes to the
            # dead-letter topic, which keeps it.
            raise PermanentMessageError(str(error)) from error
        await ensure_insurer_topics([item.insurer_code for item in replacements])
        delivery = await store.record_replacement(event, replacements)
        if delivery.inactive:
            log.warning(
                "replacement ruling not sent to inactive insurers",
                insurers=delivery.inactive,
                **fields,
            )
        if delivery.already_replaced:
            log.warning(
                "replacement ruling already sent for this case, not sent again",
                insurers=delivery.already_replaced,
                event_id=str(event.event_id),
                **fields,
            )
        if not delivery.first:
            log.info(
                "replacement ruling already handled",
                insurers=delivery.notified,
                **fields,
            )
        elif delivery.notified:
            log.info(
                "insurers sent the replacement ruling",
                insurers=delivery.notified,
                **fields,
            )


def _subscribe_claims(
    broker: KafkaBroker,
    settings: PlatformSettings,
    store: InsuranceStore,
    temporal: Client,
    insurer_topics: set[str],
) -> None:
    """Relay the insurers' claim events to the case workflow, and the parties'
    settlement confirmations to the insurers.
    """

    async def relay(
        event: ClaimEvent,
        record: Callable[[Any], Awaitable[object]],
        signal_name: str,
        signal: BaseModel,
    ) -> None:
        await _check_claim_event(store, event)
        # Recorded before the signal, so a later event of the claim finds it even
        # while Temporal is down or after the case closed.
        await record(event)
        if await _signal_case(temporal, event.case_id, signal_name, signal):
            log.info(
                event.topic.replace(".", " "),
                case_id=str(event.case_id),
                insurer=event.insurer_code,
            )

    @subscribe(broker, settings, "insurance", ClaimOpened.topic)
    async def on_claim_opened(event: ClaimOpened) -> None:
        await relay(
            event,
            store.record_claim_opened,
            CLAIM_OPENED_SIGNAL,
            ClaimOpenedSignal(
                insurer_code=event.insurer_code, claim_number=event.claim_number
            ),
        )

    @subscribe(broker, settings, "insurance", ClaimAssessed.topic)
    async def on_claim_assessed(event: ClaimAssessed) -> None:
        await relay(
            event,
            store.record_claim_assessed,
            CLAIM_ASSESSED_SIGNAL,
            ClaimAssessedSignal(
                insurer_code=event.insurer_code,
                claim_number=event.claim_number,
                amount_cents=event.amount_cents,
                party_id=event.party_id,
            ),
        )

    @subscribe(broker, settings, "insurance", ClaimRefused.topic)
    async def on_claim_refused(event: ClaimRefused) -> None:
        await relay(
            event,
            store.record_claim_refused,
            CLAIM_REFUSED_SIGNAL,
            ClaimRefusedSignal(
                insurer_code=event.insurer_code,
                claim_number=event.claim_number,
                reason=event.reason,
            ),
        )

    async def relay_confirmation(
        event: SealedSettlementConfirmed | SettlementConfirmed,
        account: PayeeAccount,
    ) -> None:
        topic = InsurerSettlementConfirmed.topic_for(event.insurer_code)
        if topic not in insurer_topics:
            await ensure_topics(settings, [topic])
            insurer_topics.add(topic)
        payee = account.masked()
        # Signalled before the insurer's copy is queued, so the workflow records
        # the confirmation before the insurer can settle on it. Signalled on every
        # delivery: the workflow records a confirmation once, and a crash between
        # the signal and the commit must not lose the insurer's copy.
        await _signal_case(
            temporal,
            event.case_id,
            SETTLEMENT_CONFIRMED_SIGNAL,
            SettlementConfirmedSignal(
                insurer_code=event.insurer_code,
                claim_number=event.claim_number,
                party_id=event.party_id,
                amount_cents=event.amount_cents,
                payee=payee,
                confirmed_at=event.confirmed_at,
            ),
        )
        first = await store.record_settlement_confirmation(event, account)
        log.info(
            "settlement confirmation queued for insurer"
            if first
            else "settlement confirmation already handled",
            case_id=str(event.case_id),
            trace_id=event.trace_id,
            insurer=event.insurer_code,
            party_id=event.party_id,
            account_number=payee.account_number_masked,
        )

    @subscribe(broker, settings, "insurance", SealedSettlementConfirmed.topic)
    async def on_settlement_confirmed(event: SealedSettlementConfirmed) -> None:
        await relay_confirmation(event, open_payee(event.payee))

    # Confirmations that an intake published before the account number was sealed.
    @subscribe(broker, settings, "insurance", SettlementConfirmed.topic)
    async def on_unsealed_settlement_confirmed(event: SettlementConfirmed) -> None:
        await relay_confirmation(event, event.payee)

    @subscribe(broker, settings, "insurance", ClaimSettled.topic)
    async def on_claim_settled(event: ClaimSettled) -> None:
        await relay(
            event,
            store.record_claim_settled,
            CLAIM_SETTLED_SIGNAL,
            ClaimSettledSignal(
                insurer_code=event.insurer_code,
                claim_number=event.claim_number,
                amount_cents=event.amount_cents,
            ),
        )

    _subscribe_reminders(broker, settings, store)


def _subscribe_reminders(
    broker: KafkaBroker, settings: PlatformSettings, store: InsuranceStore
) -> None:
    created: set[str] = set()

    async def ensure_insurer_topics(topics: list[str]) -> None:
        missing = [topic for topic in topics if topic not in created]
        if missing:
            await ensure_topics(settings, missing)
            created.update(missing)

    @subscribe(broker, settings, "insurance", InsurerReminder.request_topic)
    async def on_reminder_requested(event: InsurerReminder) -> None:
        await ensure_insurer_topics([InsurerReminder.topic_for(event.insurer_code)])
        inactive = await store.hand_to_insurers(event, InsurerReminder.request_topic)
        _log_handed("insurer reminded", event, [event.insurer_code], inactive)

    @subscribe(broker, settings, "insurance", SettlementEscalated.topic)
    async def on_settlement_escalated(event: SettlementEscalated) -> None:
        await ensure_insurer_topics(
            [
                SettlementEscalated.insurer_topic_for(code)
                for code in event.insurer_codes
            ]
        )
        inactive = await store.hand_to_insurers(event, SettlementEscalated.topic)
        if inactive is None:
            _log_handed("", event, [], None)
            return
        # Operators' alerting watches for this line, logged once per escalation.
        log.error(
            "insurers silent past reminder, settlement escalated",
            case_id=str(event.case_id),
            trace_id=event.trace_id,
            insurers=event.insurer_codes,
        )
        _log_handed("insurers told of escalation", event, event.insurer_codes, inactive)
