"""Reminders and settlement escalations, handed to each insurer concerned alone.

Like a ruling's notification, each goes to the insurer's own Kafka topic through
the outbox and, when the insurer has a webhook URL, to its webhook, in the
transaction that records the inbox entry. A redelivered event queues nothing.
"""

import uuid

import asyncpg

from common.inbox import first_delivery
from common.outbox import add_to_outbox
from common.settings import PlatformSettings
from contracts.events import InsurerReminder, SettlementEscalated
from services.insurance.registry import registry_entries
from services.insurance.webhooks import queue_webhook


def escalation_for(
    event: SettlementEscalated, insurer_code: str
) -> SettlementEscalated:
    """Return the copy of an escalation that one insurer receives.

    It names that insurer alone, so no insurer learns which others are silent,
    and its event id is derived from the original, so a redelivery keeps it.
    """
    return event.model_copy(
        update={
            "event_id": uuid.uuid5(event.event_id, insurer_code),
            "insurer_codes": [insurer_code],
        }
    )


async def hand_to_insurers(
    pool: asyncpg.Pool,
    settings: PlatformSettings,
    received: InsurerReminder | SettlementEscalated,
    topic: str,
) -> list[str] | None:
    """Queue the event for each insurer it concerns and return the inactive ones.

    ``topic`` is the topic ``received`` came on, for the inbox. Returns None for a
    redelivered event. An inactive insurer gets nothing, as with rulings.
    """
    outgoing: list[tuple[InsurerReminder | SettlementEscalated, str]]
    if isinstance(received, InsurerReminder):
        outgoing = [(received, InsurerReminder.topic_for(received.insurer_code))]
    else:
        outgoing = [
            (
                escalation_for(received, code),
                SettlementEscalated.insurer_topic_for(code),
            )
            for code in sorted(set(received.insurer_codes))
        ]
    async with pool.acquire() as connection, connection.transaction():
        if not await first_delivery(connection, received.event_id, topic):
            return None
        registry = await registry_entries(
            connection, [_insurer_of(event) for event, _ in outgoing]
        )
        inactive: list[str] = []
        for event, insurer_topic in outgoing:
            code = _insurer_of(event)
            entry = registry.get(code)
            if entry is not None and not entry.active:
                inactive.append(code)
                continue
            await add_to_outbox(connection, settings, event, insurer_topic)
            if entry is not None and entry.webhook_url:
                await queue_webhook(connection, event, code, insurer_topic)
    return inactive


def _insurer_of(event: InsurerReminder | SettlementEscalated) -> str:
    if isinstance(event, InsurerReminder):
        return event.insurer_code
    return event.insurer_codes[0]
