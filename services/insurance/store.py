"""Insurance's tables: handled events, notifications sent, and claims."""

import asyncpg

from common.inbox import first_delivery
from common.outbox import add_to_outbox
from common.settings import PlatformSettings
from contracts.events import (
    CaseRuled,
    ClaimOpened,
    ClaimSettled,
    InsurerNotification,
)


class InsuranceStore:
    def __init__(self, pool: asyncpg.Pool, settings: PlatformSettings) -> None:
        self._pool = pool
        self._settings = settings

    async def record_ruling(
        self, event: CaseRuled, notifications: list[InsurerNotification]
    ) -> bool:
        """Queue one notification per insurer; return False for a redelivered ruling.

        The inbox entry, the notification rows and the outbox events commit together.
        """
        async with self._pool.acquire() as connection, connection.transaction():
            if not await first_delivery(connection, event.event_id, CaseRuled.topic):
                return False
            for notification in notifications:
                await connection.execute(
                    "INSERT INTO notifications (case_id, insurer_code, event_id)"
                    " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    notification.case_id,
                    notification.insurer_code,
                    notification.event_id,
                )
                await add_to_outbox(
                    connection,
                    self._settings,
                    notification,
                    InsurerNotification.topic_for(notification.insurer_code),
                )
        return True

    async def record_claim_opened(self, event: ClaimOpened) -> None:
        async with self._pool.acquire() as connection, connection.transaction():
            if not await first_delivery(connection, event.event_id, event.topic):
                return
            await connection.execute(
                "INSERT INTO claims (case_id, insurer_code, claim_number, status)"
                " VALUES ($1, $2, $3, 'opened') ON CONFLICT DO NOTHING",
                event.case_id,
                event.insurer_code,
                event.claim_number,
            )

    async def record_claim_settled(self, event: ClaimSettled) -> None:
        async with self._pool.acquire() as connection, connection.transaction():
            if not await first_delivery(connection, event.event_id, event.topic):
                return
            await connection.execute(
                """
                INSERT INTO claims (case_id, insurer_code, claim_number, status,
                                    amount_cents, settled_at)
                VALUES ($1, $2, $3, 'settled', $4, now())
                ON CONFLICT (case_id, insurer_code) DO UPDATE SET
                    status = 'settled',
                    amount_cents = excluded.amount_cents,
                    settled_at = coalesce(claims.settled_at, now())
                """,
                event.case_id,
                event.insurer_code,
                event.claim_number,
                event.amount_cents,
            )
