"""The settlement link: texted to the party an assessed claim concerns."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import structlog
from temporalio import activity

from common.outbox import add_to_outbox
from common.settings import PlatformSettings
from common.working_days import CHINA_TIME
from contracts.events import SmsRequested
from contracts.insurers import KNOWN_INSURERS
from identity.party_access import PartyTokens
from workflows.case.models import SettlementLinkInput

log = structlog.get_logger(__name__)


def settlement_link_message_id(request: SettlementLinkInput) -> str:
    case_id = request.case_id
    return f"{case_id}:settlement_link:{request.party.party_id}:{request.insurer_code}"


class SettlementActivities:
    """Signs settlement links with intake's party secret and queues their texts."""

    def __init__(
        self,
        settings: PlatformSettings,
        pool: asyncpg.Pool,
        party_tokens: PartyTokens,
        phone_url: str,
    ) -> None:
        self._settings = settings
        self._pool = pool
        self._party_tokens = party_tokens
        self._phone_url = phone_url.rstrip("/")

    @activity.defn
    async def text_settlement_link(self, request: SettlementLinkInput) -> None:
        """Sign a settlement link for the party and queue its SMS.

        A retry signs another token, but the SMS keeps the workflow's event id, so
        the outbox keeps the first and the party gets one text.
        """
        now = datetime.now(UTC)
        party = request.party
        token = self._party_tokens.issue_link(
            request.case_id, party.party_id, now, purpose="settlement"
        )
        expires_at = now + self._party_tokens.policy.link_lifetime
        sms = SmsRequested(
            event_id=request.event_id,
            case_id=request.case_id,
            trace_id=request.trace_id,
            message_id=settlement_link_message_id(request),
            party_id=party.party_id,
            phone=party.phone,
            template="settlement_link",
            variables={
                "case_number": str(request.case_id)[:8],
                "plate": party.plate,
                "insurer": KNOWN_INSURERS.get(
                    request.insurer_code, request.insurer_code
                ),
                "claim_number": request.claim_number,
                "amount": f"{request.amount_cents / 100:.2f}",
                "deadline": f"{expires_at.astimezone(CHINA_TIME):%m月%d日%H:%M}",
                "link": f"{self._phone_url}/phone/#t={token}&v=settlement",
            },
        )
        async with self._pool.acquire() as connection, connection.transaction():
            queued = await add_to_outbox(connection, self._settings, sms)
        log.info(
            "settlement link queued" if queued else "settlement link already queued",
            case_id=str(request.case_id),
            party_id=party.party_id,
            insurer=request.insurer_code,
        )

    def all(self) -> list[Callable[..., Any]]:
        return [self.text_settlement_link]
