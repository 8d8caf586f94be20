"""Intake's record of parties' settlement confirmations, and their outbox event."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from common.outbox import add_to_outbox
from common.settings import PlatformSettings
from contracts.events import SealedSettlementConfirmed
from contracts.settlement import MaskedPayee


@dataclass(frozen=True)
class StoredConfirmation:
    insurer_code: str
    claim_number: str
    party_id: str
    amount_cents: int
    payee: MaskedPayee
    confirmed_at: datetime


class SettlementStore:
    def __init__(self, pool: asyncpg.Pool, settings: PlatformSettings) -> None:
        self._pool = pool
        self._settings = settings

    async def confirmations(self, case_id: UUID) -> list[StoredConfirmation]:
        rows = await self._pool.fetch(
            "SELECT insurer_code, claim_number, party_id, amount_cents,"
            " account_holder, bank, account_number_masked, confirmed_at"
            " FROM settlement_confirmations WHERE case_id = $1 ORDER BY insurer_code",
            case_id,
        )
        return [
            StoredConfirmation(
                insurer_code=row["insurer_code"],
                claim_number=row["claim_number"],
                party_id=row["party_id"],
                amount_cents=row["amount_cents"],
                payee=MaskedPayee(
                    account_holder=row["account_holder"],
                    bank=row["bank"],
                    account_number_masked=row["account_number_masked"],
                ),
                confirmed_at=row["confirmed_at"],
            )
            for row in rows
        ]

    async def confirm(self, event: SealedSettlementConfirmed) -> bool:
        """Record the confirmation and queue its event in one transaction.

        Returns False when the claim was already confirmed, which changes nothing.
        """
        payee = event.payee
        async with self._pool.acquire() as connection, connection.transaction():
            added = await connection.fetchval(
                """
                INSERT INTO settlement_confirmations (case_id, insurer_code,
                    claim_number, party_id, amount_cents, account_holder, bank,
                    account_number_masked, event_id, confirmed_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                ON CONFLICT (case_id, insurer_code) DO NOTHING
                RETURNING true
                """,
                event.case_id,
                event.insurer_code,
                event.claim_number,
                event.party_id,
                event.amount_cents,
                payee.account_holder,
                payee.bank,
                payee.account_number_masked,
                event.event_id,
                event.confirmed_at,
            )
            if not added:
                return False
            await add_to_outbox(connection, self._settings, event)
        return True
