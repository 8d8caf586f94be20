"""Activities of the case workflow that publish its events.

The evidence checks are in ``workflows.evidence.activities``.
"""

from collections.abc import Callable
from typing import Any

import asyncpg
from temporalio import activity

from common.outbox import add_to_outbox
from common.settings import PlatformSettings
from contracts.events import (
    CaseClosed,
    CaseEscalated,
    CaseQueued,
    CaseRuled,
    Event,
    EvidenceRejected,
    InsurerReminder,
    SettlementEscalated,
)
from workflows.case.models import ReminderBatch, SmsBatch

# The schema of the worker's outbox, in which its activities write their events.
CASE_WORKER_SCHEMA = "case_worker"
# The custody entries that the case and evidence workers write name this actor.
WORKER_ACTOR = "case-worker"


async def publish_events(
    pool: asyncpg.Pool, settings: PlatformSettings, *events: Event
) -> None:
    """Write the events to the case worker's outbox in one transaction, from which
    the relay sends them.

    A retried activity writes the same event ids again, which the outbox skips.
    """
    async with pool.acquire() as connection, connection.transaction():
        for event in events:
            await add_to_outbox(connection, settings, event)


class CaseActivities:
    """Activities bound to the worker's outbox.

    Every published event carries an id the workflow chose, so a retried activity
    writes the same event, which the outbox and the consumers' inboxes drop.
    """

    def __init__(self, settings: PlatformSettings, pool: asyncpg.Pool) -> None:
        self._settings = settings
        self._pool = pool

    @activity.defn
    async def request_resubmission(self, event: EvidenceRejected) -> None:
        await self._publish(event)

    @activity.defn
    async def queue_for_officer(self, event: CaseQueued) -> None:
        await self._publish(event)

    @activity.defn
    async def publish_escalation(self, event: CaseEscalated) -> None:
        await self._publish(event)

    @activity.defn
    async def publish_ruling(self, event: CaseRuled) -> None:
        await self._publish(event)

    @activity.defn
    async def request_sms(self, batch: SmsBatch) -> None:
        await self._publish(*batch.messages)

    @activity.defn
    async def publish_case_closed(self, event: CaseClosed) -> None:
        await self._publish(event)

    @activity.defn
    async def remind_insurers(self, batch: ReminderBatch) -> None:
        async with self._pool.acquire() as connection, connection.transaction():
            for reminder in batch.reminders:
                topic = InsurerReminder.topic_for(reminder.insurer_code)
                await add_to_outbox(connection, self._settings, reminder, topic)

    @activity.defn
    async def publish_settlement_escalation(self, event: SettlementEscalated) -> None:
        await self._publish(event)

    async def _publish(self, *events: Event) -> None:
        await publish_events(self._pool, self._settings, *events)

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.request_resubmission,
            self.queue_for_officer,
            self.publish_escalation,
            self.publish_ruling,
            self.request_sms,
            self.publish_case_closed,
            self.remind_insurers,
            self.publish_settlement_escalation,
        ]
