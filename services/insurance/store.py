"""Insurance's tables: handled events, notifications sent, and claims."""

from uuid import UUID

import asyncpg


class InsuranceStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def already_processed(self, event_id: UUID) -> bool:
        found = await self._pool.fetchval(
            "SELECT 1 FROM processed_events WHERE event_id = $1", event_id
        )
        return found is not None

    async def mark_processed(self, event_id: UUID, topic: str) -> None:
        await self._pool.execute(
            "INSERT INTO processed_events (event_id, topic) VALUES ($1, $2)"
            " ON CONFLICT DO NOTHING",
            event_id,
            topic,
        )

    async def record_notification(
        self, case_id: UUID, insurer_code: str, event_id: UUID
    ) -> None:
        await self._pool.execute(
            "INSERT INTO notifications (case_id, insurer_code, event_id)"
            " VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING",
            case_id,
            insurer_code,
            event_id,
        )

    async def record_claim_opened(
        self, case_id: UUID, insurer_code: str, claim_number: str
    ) -> None:
        await self._pool.execute(
            "INSERT INTO claims (case_id, insurer_code, claim_number, status)"
            " VALUES ($1, $2, $3, 'opened') ON CONFLICT DO NOTHING",
            case_id,
            insurer_code,
            claim_number,
        )

    async def record_claim_settled(
        self, case_id: UUID, insurer_code: str, claim_number: str, amount_cents: int
    ) -> None:
        await self._pool.execute(
            """
            INSERT INTO claims
                (case_id, insurer_code, claim_number, status, amount_cents, settled_at)
            VALUES ($1, $2, $3, 'settled', $4, now())
            ON CONFLICT (case_id, insurer_code) DO UPDATE SET
                status = 'settled',
                amount_cents = excluded.amount_cents,
                settled_at = coalesce(claims.settled_at, now())
            """,
            case_id,
            insurer_code,
            claim_number,
            amount_cents,
        )
