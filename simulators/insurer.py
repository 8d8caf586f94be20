"""An insurer's system, simulated: it opens, assesses and settles a claim for every
ruling.

A ruling replaced after reconsideration is logged and left alone: the simulator
keeps the claim it opened on the first ruling.

Run with ``python -m simulators.insurer``; it consumes the topics of the insurer
codes in ``DINGZE_SIMULATED_INSURERS``. A claim with an amount to pay is assessed
and then settled only once the party's confirmation arrives on
``insurer.<code>.settlements``; a claim of 0 is settled at once. The insurers in
``DINGZE_SIMULATED_IMMEDIATE_INSURERS`` open and settle at once instead, with no
assessment and no confirmation.
"""

import asyncio
import signal
import uuid

import structlog
from faststream.kafka import KafkaBroker
from pydantic import Field

from common.kafka import (
    ensure_topics,
    make_broker,
    publish_event,
    subscribe,
)
from common.logging import configure_logging
from common.settings import PlatformSettings
from contracts.events import (
    ClaimAssessed,
    ClaimOpened,
    ClaimSettled,
    InsurerNotification,
    InsurerSettlementConfirmed,
)
from contracts.insurers import KNOWN_INSURERS

log = structlog.get_logger(__name__)


def _codes(text: str) -> list[str]:
    return [code.strip() for code in text.split(",") if code.strip()]


class SimulatorSettings(PlatformSettings):
    simulated_insurers: str = ",".join(KNOWN_INSURERS)
    simulated_settle_delay_seconds: float = 0.2
    simulated_immediate_insurers: str = Field(
        default="",
        description="Comma-separated insurer codes whose claims are settled at "
        "once, without assessment or the party's confirmation",
    )


# Every party's damage is taken as 2,000 CNY; an insurer pays its insured parties'
# liability shares of it.
SIMULATED_DAMAGE_CENTS = 200_000


def _settlement_cents(event: InsurerNotification) -> int:
    shares = sum(
        event.ruling.share_of(party.party_id) for party in event.insured_parties
    )
    return SIMULATED_DAMAGE_CENTS * shares // 100


def _claim_number(event: InsurerNotification) -> str:
    return f"{event.insurer_code}-{str(event.case_id)[:8].upper()}"


def subscribe_simulator(broker: KafkaBroker, settings: SimulatorSettings) -> list[str]:
    codes = _codes(settings.simulated_insurers)
    immediate = set(_codes(settings.simulated_immediate_insurers))
    notifications = [InsurerNotification.topic_for(code) for code in codes]
    settlements = [InsurerSettlementConfirmed.topic_for(code) for code in codes]

    async def settle(event: InsurerNotification, amount_cents: int) -> None:
        await publish_event(
            broker,
            settings,
            ClaimSettled(
                event_id=uuid.uuid5(event.event_id, "claim.settled"),
                case_id=event.case_id,
                trace_id=event.trace_id,
                insurer_code=event.insurer_code,
                claim_number=_claim_number(event),
                amount_cents=amount_cents,
            ),
        )
        log.info(
            "claim settled by simulator",
            case_id=str(event.case_id),
            claim=_claim_number(event),
        )

    @subscribe(broker, settings, "insurer-simulator", *notifications)
    async def on_notification(event: InsurerNotification) -> None:
        if event.replaces_document_number:
            log.info(
                "replacement ruling received by simulator",
                case_id=str(event.case_id),
                insurer=event.insurer_code,
                document_number=event.document_number,
            )
            return
        claim_number = _claim_number(event)
        await publish_event(
            broker,
            settings,
            ClaimOpened(
                event_id=uuid.uuid5(event.event_id, "claim.opened"),
                case_id=event.case_id,
                trace_id=event.trace_id,
                insurer_code=event.insurer_code,
                claim_number=claim_number,
            ),
        )
        await asyncio.sleep(settings.simulated_settle_delay_seconds)
        amount = _settlement_cents(event)
        # Nothing to pay needs no payee account, so no assessment to confirm.
        if event.insurer_code in immediate or amount == 0:
            await settle(event, amount)
            return
        # NOTE: an insurer with several insured parties in one case pays their
        # whole share into the first party's account.
        await publish_event(
            broker,
            settings,
            ClaimAssessed(
                event_id=uuid.uuid5(event.event_id, "claim.assessed"),
                case_id=event.case_id,
                trace_id=event.trace_id,
                insurer_code=event.insurer_code,
                claim_number=claim_number,
                amount_cents=amount,
                party_id=event.insured_parties[0].party_id,
            ),
        )

    @subscribe(broker, settings, "insurer-simulator-settlements", *settlements)
    async def on_confirmation(event: InsurerSettlementConfirmed) -> None:
        await publish_event(
            broker,
            settings,
            ClaimSettled(
                event_id=uuid.uuid5(event.event_id, "claim.settled"),
                case_id=event.case_id,
                trace_id=event.trace_id,
                insurer_code=event.insurer_code,
                claim_number=event.claim_number,
                amount_cents=event.amount_cents,
            ),
        )
        log.info(
            "claim settled by simulator after confirmation",
            case_id=str(event.case_id),
            claim=event.claim_number,
            account_number=event.payee.masked().account_number_masked,
        )

    return notifications + settlements


async def run_simulator(settings: SimulatorSettings) -> None:
    broker = make_broker(settings, "insurer-simulator")
    topics = subscribe_simulator(broker, settings)
    await ensure_topics(
        settings,
        [*topics, ClaimOpened.topic, ClaimAssessed.topic, ClaimSettled.topic],
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await broker.start()
    log.info("insurer simulator started", topics=topics)
    await stop.wait()
    await broker.stop()


if __name__ == "__main__":
    simulator_settings = SimulatorSettings()
    configure_logging("insurer-simulator", simulator_settings.log_level)
    asyncio.run(run_simulator(simulator_settings))
