"""Activities that issue ruling documents and count reconsideration deadlines."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import structlog
from temporalio import activity

from common.outbox import add_to_outbox
from common.settings import PlatformSettings
from common.working_days import WorkingDayCalendar
from contracts.accident_types import AccidentTypeTable
from contracts.documents import DocumentKind, RulingDocumentContent
from contracts.events import CaseReconsiderationRequested, CaseReconsidered, Event
from documents.issue import DocumentIssuer
from identity.party_access import PartyTokens
from workflows.review.models import DeadlineInput, DocumentIssued

log = structlog.get_logger(__name__)


class DocumentActivities:
    """Activities bound to the platform's signing key and the document archive.

    A document's bytes follow from its content alone, so a retried issue stores the
    same file with the same hash and signature.
    """

    def __init__(
        self,
        issuer: DocumentIssuer,
        accident_types: AccidentTypeTable,
        party_tokens: PartyTokens,
        phone_url: str,
        calendar: WorkingDayCalendar,
    ) -> None:
        self._issuer = issuer
        self._accident_types = accident_types
        self._calendar = calendar
        self._party_tokens = party_tokens
        self._phone_url = phone_url.rstrip("/")

    @activity.defn
    async def issue_ruling_document(
        self, content: RulingDocumentContent
    ) -> DocumentIssued:
        """Render, sign and store one version of a ruling document."""
        changes: dict[str, object] = {}
        if (
            content.kind is DocumentKind.RULING
            and content.reconsideration_deadline is None
        ):
            changes["reconsideration_deadline"] = (
                self._calendar.reconsideration_deadline(
                    content.issued_at, case_id=str(content.case_id)
                )
            )
        accident_type = (
            self._accident_types.find(content.ruling.accident_type)
            if content.ruling.accident_type
            else None
        )
        if accident_type is not None and not content.accident_type_name_zh:
            changes["accident_type_name_zh"] = accident_type.name_zh
        rendered = content.model_copy(update=changes)
        issued = await self._issuer.issue(rendered)
        log.info(
            "ruling document issued",
            case_id=str(content.case_id),
            document_number=issued.document_number,
            version=issued.version,
            sha256=issued.sha256,
        )
        links = {}
        if content.kind is DocumentKind.RULING and content.version == 1:
            # Each party opens the ruling from the phone page with a one-time code.
            now = datetime.now(UTC)
            for party in content.parties:
                token = self._party_tokens.issue_link(
                    content.case_id, party.party_id, now
                )
                links[party.party_id] = f"{self._phone_url}/phone/#t={token}"
        return DocumentIssued(document=issued, content=rendered, links=links)

    def all(self) -> list[Callable[..., Any]]:
        return [self.issue_ruling_document]


class ReviewActivities:
    """Activities of the review workflow that count days or publish events.

    Events go to the case worker's outbox, like the case workflow's, and a retried
    activity writes the same event id again, which the outbox skips.
    """

    def __init__(
        self,
        settings: PlatformSettings,
        pool: asyncpg.Pool,
        calendar: WorkingDayCalendar,
    ) -> None:
        self._settings = settings
        self._pool = pool
        self._calendar = calendar

    @activity.defn
    async def count_reconsideration_deadline(self, request: DeadlineInput) -> datetime:
        """Count the deadline of a document issued without one.

        Documents issued while an unknown year stopped the count carry no deadline,
        and their review workflows count it here.
        """
        return self._calendar.reconsideration_deadline(request.delivered_at)

    @activity.defn
    async def publish_reconsideration_requested(
        self, event: CaseReconsiderationRequested
    ) -> None:
        await self._publish(event)

    @activity.defn
    async def publish_reconsidered(self, event: CaseReconsidered) -> None:
        await self._publish(event)

    async def _publish(self, event: Event) -> None:
        async with self._pool.acquire() as connection, connection.transaction():
            await add_to_outbox(connection, self._settings, event)

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.count_reconsideration_deadline,
            self.publish_reconsideration_requested,
            self.publish_reconsidered,
        ]


# Ruling links must outlast the reconsideration period, which with a long public
# holiday spans more than a week.
RULING_LINK_LIFETIME = timedelta(days=14)
