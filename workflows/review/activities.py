"""Activities that issue ruling documents and count reconsideration deadlines."""

from collections.abc import Callable
from typing import Any

import structlog
from temporalio import activity

from common.working_days import CalendarYearUnknownError, reconsideration_deadline
from contracts.accident_types import AccidentTypeTable
from contracts.documents import DocumentKind, RulingDocumentContent
from documents.issue import DocumentIssuer
from workflows.review.models import DocumentIssued

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
        link_base_url: str,
    ) -> None:
        self._issuer = issuer
        self._accident_types = accident_types
        self._link_base_url = link_base_url.rstrip("/")

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
            changes["reconsideration_deadline"] = self._deadline_or_none(content)
        accident_type = (
            self._accident_types.find(content.ruling.accident_type)
            if content.ruling.accident_type
            else None
        )
        if accident_type is not None and not content.accident_type_name_zh:
            changes["accident_type_name_zh"] = accident_type.name_zh
        issued = await self._issuer.issue(content.model_copy(update=changes))
        log.info(
            "ruling document issued",
            case_id=str(content.case_id),
            document_number=issued.document_number,
            version=issued.version,
            sha256=issued.sha256,
        )
        return DocumentIssued(
            document=issued, link=f"{self._link_base_url}/{issued.document_number}"
        )

    def _deadline_or_none(self, content: RulingDocumentContent) -> Any:
        # The document still goes out without a date; the review workflow keeps
        # asking for the deadline until the calendar knows the year.
        try:
            return reconsideration_deadline(content.issued_at)
        except CalendarYearUnknownError as error:
            log.error(
                "reconsideration deadline unknown",
                case_id=str(content.case_id),
                error=str(error),
            )
            return None

    def all(self) -> list[Callable[..., Any]]:
        return [self.issue_ruling_document]
