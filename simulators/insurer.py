"""An insurer's system, simulated: it opens and settles a claim for every ruling.

A ruling replaced after reconsideration is logged and left alone, because the
simulated claim of the first ruling is already settled.

Run with ``python -m simulators.insurer``; it consumes the topics of the insurer
codes in ``DINGZE_SIMULATED_INSURERS``.
"""

import asyncio
import signal
import uuid

import structlog
from faststream.kafka import KafkaBroker

from common.kafka import (
    ensure_topics,
    make_broker,
    publish_event,
    subscribe,
)
from common.logging import configure_logging
from common.settings import PlatformSettings
from contracts.events import ClaimOpened, ClaimSettled, InsurerNotification
from contracts.insurers import KNOWN_INSURERS

log = structlog.get_logger(__name__)


class SimulatorSettings(PlatformSettings):
    simulated_insurers: str = ",".join(KNOWN_INSURERS)
    simulated_settle_delay_seconds: float = 0.2


# Every party's damage is taken as 2,000 CNY; an insurer pays its insured parties'
# liability shares of it.
SIMULATED_DAMAGE_CENTS = 200_000


def _settlement_cents(event: InsurerNotification) -> int:
    shares = sum(
        event.ruling.share_of(party.party_id) for party in event.insured_parties
    )
    return SIMULATED_DAMAGE_CENTS * shares // 100


def subscribe_simulator(broker: KafkaBroker, settings: SimulatorSettings) -> list[str]:
    codes = [
        code.strip() for code in settings.simulated_insurers.split(",") if code.strip()
    ]
    topics = [InsurerNotification.topic_for(code) for code in codes]

    @subscribe(broker, settings, "insurer-simulator", *topics)
    async def on_notification(event: InsurerNotification) -> None:
        if event.replaces_document_number:
            log.info(
                "replacement ruling received by simulator",
                case_id=str(event.case_id),
                insurer=event.insurer_code,
                document_number=event.document_number,
            )
            return
        claim_number = f"{event.insurer_code}-{str(event.case_id)[:8].upper()}"
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
        await publish_event(
            broker,
            settings,
            ClaimSettled(
                event_id=uuid.uuid5(event.event_id, "claim.settled"),
                case_id=event.case_id,
                trace_id=event.trace_id,
                insurer_code=event.insurer_code,
                claim_number=claim_number,
                amount_cents=_settlement_cents(event),
            ),
        )
        log.info(
            "claim settled by simulator", case_id=str(event.case_id), claim=claim_number
        )

    return topics


async def run_simulator(settings: SimulatorSettings) -> None:
    broker = make_broker(settings, "insurer-simulator")
    topics = subscribe_simulator(broker, settings)
    await ensure_topics(settings, [*topics, ClaimOpened.topic, ClaimSettled.topic])
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
