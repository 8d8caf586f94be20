"""Insurance's tables: handled events, notifications sent, and claims."""

import uuid
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg

from common.db import Connection
from common.inbox import first_delivery
from common.outbox import add_to_outbox
from common.sealing import Purpose, unseal
from common.settings import PlatformSettings
from contracts.events import (
    CaseReconsidered,
    CaseRuled,
    ClaimAssessed,
    ClaimOpened,
    ClaimRefused,
    ClaimSettled,
    Event,
    InsurerNotification,
    InsurerReminder,
    InsurerSettlementConfirmed,
    SealedSettlementConfirmed,
    SettlementConfirmed,
    SettlementEscalated,
)
from contracts.settlement import PayeeAccount
from services.insurance.claim_checks import ClaimEvent, ClaimStanding
from services.insurance.registry import RegistryEntry, registry_entries
from services.insurance.reminders import hand_to_insurers
from services.insurance.webhooks import queue_webhook


@dataclass
class RulingDelivery:
    """One ruling's delivery: the insurers notified, those inactive, and those
    that already had a replacement for the case.
    """

    first: bool
    notified: list[str] = field(default_factory=list)
    inactive: list[str] = field(default_factory=list)
    already_replaced: list[str] = field(default_factory=list)


class InsuranceStore:
    def __init__(self, pool: asyncpg.Pool, settings: PlatformSettings) -> None:
        self._pool = pool
        self._settings = settings

    async def record_ruling(
        self, event: CaseRuled, notifications: list[InsurerNotification]
    ) -> RulingDelivery:
        """Queue each active insurer's notification, on Kafka and by webhook.

        The inbox entry, the notification rows, the outbox events and the webhook
        deliveries commit together. A redelivered ruling queues nothing and returns
        the insurers notified the first time.
        """
        async with self._pool.acquire() as connection, connection.transaction():
            if not await first_delivery(connection, event.event_id, CaseRuled.topic):
                notified = await connection.fetch(
                    "SELECT insurer_code FROM notifications WHERE case_id = $1",
                    event.case_id,
                )
                return RulingDelivery(
                    first=False, notified=sorted(r["insurer_code"] for r in notified)
                )
            registry = await registry_entries(
                connection, [n.insurer_code for n in notifications]
            )
            delivery = RulingDelivery(first=True)
            for notification in notifications:
                entry = registry.get(notification.insurer_code)
                if entry is not None and not entry.active:
                    delivery.inactive.append(notification.insurer_code)
                    continue
                await self._queue_notification(connection, notification, entry)
                delivery.notified.append(notification.insurer_code)
        return delivery

    async def record_replacement(
        self, event: CaseReconsidered, replacements: list[InsurerNotification]
    ) -> RulingDelivery:
        """Queue each active insurer's replacement ruling, on Kafka and by webhook.

        Like ``record_ruling``, the inbox entry, the replacement rows, the outbox
        events and the webhook deliveries commit together. An insurer that already
        has a replacement for the case gets no second one, whatever the event id.
        """
        async with self._pool.acquire() as connection, connection.transaction():
            if not await first_delivery(connection, event.event_id, event.topic):
                replaced = await connection.fetch(
                    "SELECT insurer_code FROM ruling_replacements WHERE case_id = $1",
                    event.case_id,
                )
                return RulingDelivery(
                    first=False, notified=sorted(r["insurer_code"] for r in replaced)
                )
            registry = await registry_entries(
                connection, [n.insurer_code for n in replacements]
            )
            delivery = RulingDelivery(first=True)
            for replacement in replacements:
                entry = registry.get(replacement.insurer_code)
                if entry is not None and not entry.active:
                    delivery.inactive.append(replacement.insurer_code)
                    continue
                recorded = await connection.fetchval(
                    "INSERT INTO ruling_replacements (case_id, insurer_code,"
                    " event_id, document_number, replaces_document_number)"
                    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING"
                    " RETURNING true",
                    replacement.case_id,
                    replacement.insurer_code,
                    replacement.event_id,
                    replacement.document_number,
                    replacement.replaces_document_number,
                )
                if not recorded:
                    delivery.already_replaced.append(replacement.insurer_code)
                    continue
                await self._publish(connection, replacement, entry)
                delivery.notified.append(replacement.insurer_code)
        return delivery

    async def _queue_notification(
        self,
        connection: Connection,
        notification: InsurerNotification,
        entry: RegistryEntry | None,
    ) -> None:
        await connection.execute(
            "INSERT INTO notifications (case_id, insurer_code, event_id)"
            " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            notification.case_id,
            notification.insurer_code,
            notification.event_id,
        )
        await self._publish(connection, notification, entry)

    async def _publish(
        self,
        connection: Connection,
        notification: InsurerNotification,
        entry: RegistryEntry | None,
    ) -> None:
        """Queue the notification on the insurer's topic and, if any, its webhook."""
        await add_to_outbox(
            connection,
            self._settings,
            notification,
            entry.topic
            if entry
            else InsurerNotification.topic_for(notification.insurer_code),
        )
        if entry is not None and entry.webhook_url:
            await queue_webhook(
                connection, notification, notification.insurer_code, entry.topic
            )

    async def record_settlement_confirmation(
        self,
        event: SealedSettlementConfirmed | SettlementConfirmed,
        payee: PayeeAccount,
    ) -> bool:
        """Queue a party's confirmation, with the opened payee, for its insurer alone.

        The insurer gets it on its own settlements topic and, when it has a webhook
        URL, by webhook. An inactive insurer's webhook delivery fails its tries and
        is parked until ``redeliver``. Returns False for a redelivered event, which
        queues nothing.
        """
        confirmation = InsurerSettlementConfirmed(
            event_id=uuid.uuid5(event.event_id, event.insurer_code),
            case_id=event.case_id,
            trace_id=event.trace_id,
            insurer_code=event.insurer_code,
            claim_number=event.claim_number,
            party_id=event.party_id,
            amount_cents=event.amount_cents,
            payee=payee,
            confirmed_at=event.confirmed_at,
        )
        topic = InsurerSettlementConfirmed.topic_for(event.insurer_code)
        masked = payee.masked()
        async with self._pool.acquire() as connection, connection.transaction():
            if not await first_delivery(connection, event.event_id, event.topic):
                return False
            await connection.execute(
                """
                INSERT INTO settlement_confirmations (case_id, insurer_code,
                    claim_number, party_id, amount_cents, account_holder, bank,
                    account_number_masked, event_id, confirmed_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                ON CONFLICT DO NOTHING
                """,
                event.case_id,
                event.insurer_code,
                event.claim_number,
                event.party_id,
                event.amount_cents,
                masked.account_holder,
                masked.bank,
                masked.account_number_masked,
                confirmation.event_id,
                event.confirmed_at,
            )
            await add_to_outbox(connection, self._settings, confirmation, topic)
            registry = await registry_entries(connection, [event.insurer_code])
            entry = registry.get(event.insurer_code)
            if entry is not None and entry.webhook_url:
                await queue_webhook(connection, confirmation, event.insurer_code, topic)
        return True

    async def hand_to_insurers(
        self, event: InsurerReminder | SettlementEscalated, topic: str
    ) -> list[str] | None:
        """Queue a reminder or escalation for its insurers (see ``reminders``)."""
        return await hand_to_insurers(self._pool, self._settings, event, topic)

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

    async def record_claim_assessed(self, event: ClaimAssessed) -> None:
        async with self._pool.acquire() as connection, connection.transaction():
            if not await first_delivery(connection, event.event_id, event.topic):
                return
            await connection.execute(
                """
                INSERT INTO claims (case_id, insurer_code, claim_number, status,
                                    assessed_cents)
                VALUES ($1, $2, $3, 'assessed', $4)
                ON CONFLICT (case_id, insurer_code) DO UPDATE SET
                    assessed_cents = excluded.assessed_cents,
                    status = CASE WHEN claims.status = 'opened' THEN 'assessed'
                                  ELSE claims.status END
                """,
                event.case_id,
                event.insurer_code,
                event.claim_number,
                event.amount_cents,
            )

    async def record_claim_refused(self, event: ClaimRefused) -> None:
        async with self._pool.acquire() as connection, connection.transaction():
            if not await first_delivery(connection, event.event_id, event.topic):
                return
            await connection.execute(
                """
                INSERT INTO claims (case_id, insurer_code, claim_number, status,
                                    refusal_reason)
                VALUES ($1, $2, $3, 'refused', $4)
                ON CONFLICT (case_id, insurer_code) DO UPDATE SET
                    status = 'refused', refusal_reason = excluded.refusal_reason
                WHERE claims.status <> 'settled'
                """,
                event.case_id,
                event.insurer_code,
                event.claim_number,
                event.reason,
            )

    async def ruling_delivered(self, case_id: UUID, insurer_code: str) -> bool:
        """Return whether the ruling of the case was queued for this insurer."""
        return bool(
            await self._pool.fetchval(
                "SELECT 1 FROM notifications WHERE case_id = $1 AND insurer_code = $2",
                case_id,
                insurer_code,
            )
        )

    async def claim_standing(self, event: ClaimEvent) -> ClaimStanding:
        """Return what insurance recorded about the claim the event names."""
        row = await self._pool.fetchrow(
            """
            SELECT
                EXISTS (SELECT 1 FROM inbox WHERE event_id = $3) AS handled,
                EXISTS (
                    SELECT 1 FROM notifications
                    WHERE case_id = $1 AND insurer_code = $2
                ) AS delivered,
                claims.claim_number,
                claims.status
            FROM (SELECT 1) AS one
            LEFT JOIN claims ON claims.case_id = $1 AND claims.insurer_code = $2
            """,
            event.case_id,
            event.insurer_code,
            event.event_id,
        )
        assert row is not None  # the query always returns one row
        return ClaimStanding(
            handled=row["handled"],
            delivered=row["delivered"],
            claim_number=row["claim_number"],
            status=row["status"],
        )

    async def signing_secret(self, insurer_code: str) -> str | None:
        """Return the active insurer's signing secret, or None."""
        secret = await self._pool.fetchval(
            "SELECT signing_secret FROM insurers WHERE code = $1 AND active",
            insurer_code,
        )
        return None if secret is None else unseal(secret, Purpose.WEBHOOK_SECRET)

    async def queue_event(self, event: Event) -> bool:
        """Write an insurer's event to the outbox; False when it is already there."""
        async with self._pool.acquire() as connection, connection.transaction():
            return await add_to_outbox(connection, self._settings, event)

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
