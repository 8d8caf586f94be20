"""The ruling review workflow: answers, the reconsideration window and its outcome.

The case workflow starts one per ruled case as a child that outlives it, so the
claims go on while the parties have their days to contest the ruling.
"""

import asyncio
import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.documents import (
        DocumentKind,
        IssuedDocument,
        PartyAnswer,
        PartyAnswerKind,
        ReconsiderationOutcome,
    )
    from contracts.events import (
        CaseReconsiderationRequested,
        CaseReconsidered,
        SmsRequested,
    )
    from contracts.review import (
        ANSWER_RULING_UPDATE,
        DECIDE_RECONSIDERATION_UPDATE,
        REQUEST_RECONSIDERATION_UPDATE,
        REVIEW_STATE_QUERY,
        REVIEW_WORKFLOW_NAME,
        AnswerRulingInput,
        ReconsiderationDecision,
        ReconsiderationRequest,
        ReviewInput,
        ReviewOutcome,
        ReviewStage,
        ReviewState,
    )
    from documents.numbers import reconsideration_document_number
    from workflows.case.activities import CaseActivities
    from workflows.case.models import SmsBatch
    from workflows.review.activities import DocumentActivities, ReviewActivities
    from workflows.review.models import DeadlineInput

PUBLISH_TIMEOUT = timedelta(seconds=10)
PUBLISH_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10))
DOCUMENT_TIMEOUT = timedelta(minutes=1)
# Counting a deadline falls back to weekdays for an unknown year, so only outages
# make it retry. The hourly cap keeps a long outage from flooding the logs.
DEADLINE_RETRY = RetryPolicy(maximum_interval=timedelta(hours=1))
# Reconsideration is to be decided within 30 days of the request.
DECISION_DEADLINE = timedelta(days=30)


@workflow.defn(name=REVIEW_WORKFLOW_NAME)
class RulingReviewWorkflow:
    """One delivered ruling, until its reconsideration window closes or its
    reconsideration is decided.
    """

    @workflow.init
    def __init__(self, request: ReviewInput) -> None:
        self._request = request
        self._stage = ReviewStage.OPEN
        self._versions: list[IssuedDocument] = [request.document]
        self._deadline = request.document.reconsideration_deadline
        self._answers: dict[str, PartyAnswer] = {}
        self._reconsideration: ReconsiderationRequest | None = None
        self._decision: ReconsiderationDecision | None = None
        self._reconsideration_document: IssuedDocument | None = None
        self._render_lock = asyncio.Lock()

    @workflow.run
    async def run(self, request: ReviewInput) -> ReviewOutcome:
        if self._deadline is None:
            self._deadline = await workflow.execute_activity_method(
                ReviewActivities.count_reconsideration_deadline,
                DeadlineInput(delivered_at=request.document.issued_at),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=DEADLINE_RETRY,
            )
        deadline = self._deadline
        remaining = deadline - workflow.now()
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self._reconsideration is not None,
                timeout=max(remaining, timedelta(0)),
            )
        if self._reconsideration is None:
            # The window closed: the ruling (in its latest version) is final.
            self._stage = ReviewStage.FINAL
            await workflow.wait_condition(workflow.all_handlers_finished)
            return ReviewOutcome(
                final_document_number=request.document.document_number,
                reconsidered=False,
            )

        await self._publish_request(self._reconsideration)
        try:
            await workflow.wait_condition(
                lambda: self._decision is not None, timeout=DECISION_DEADLINE
            )
        except TimeoutError:
            workflow.logger.warning(
                "reconsideration overdue", extra={"case_id": str(request.case.case_id)}
            )
            await workflow.wait_condition(lambda: self._decision is not None)
        decision = self._decision
        assert decision is not None
        document = await self._issue_reconsideration(decision)
        self._stage = ReviewStage.FINAL
        await workflow.wait_condition(workflow.all_handlers_finished)
        return ReviewOutcome(
            final_document_number=document.document_number,
            reconsidered=True,
            outcome=decision.outcome,
        )

    @workflow.update(name=ANSWER_RULING_UPDATE)
    async def answer_ruling(self, answer: AnswerRulingInput) -> ReviewState:
        """Record a party's answer; a refusal re-renders the document as a new
        version that prints it, and every earlier version stays stored.
        """
        self._answers[answer.party_id] = PartyAnswer(
            party_id=answer.party_id,
            answer=answer.answer,
            answered_at=workflow.now(),
            reason=answer.reason,
        )
        if answer.answer is PartyAnswerKind.REFUSED:
            async with self._render_lock:
                await self._issue_version()
        return self.review_state()

    @answer_ruling.validator
    def _validate_answer(self, answer: AnswerRulingInput) -> None:
        self._check_party(answer.party_id)
        if answer.party_id in self._answers:
            earlier = self._answers[answer.party_id]
            raise ApplicationError(
                f"party {answer.party_id} already answered "
                f"({earlier.answer.value}) at {earlier.answered_at.isoformat()}",
                type="AlreadyAnswered",
            )
        if self._stage is ReviewStage.FINAL:
            raise ApplicationError("the ruling is final", type="ReviewClosed")

    @workflow.update(name=REQUEST_RECONSIDERATION_UPDATE)
    def request_reconsideration(self, request: ReconsiderationRequest) -> ReviewState:
        self._reconsideration = request.model_copy(
            update={"requested_at": workflow.now()}
        )
        self._stage = ReviewStage.RECONSIDERING
        return self.review_state()

    @request_reconsideration.validator
    def _validate_request(self, request: ReconsiderationRequest) -> None:
        self._check_party(request.party_id)
        if self._reconsideration is not None:
            raise ApplicationError(
                "reconsideration was already requested for this accident by party "
                f"{self._reconsideration.party_id}; it is allowed once per accident",
                type="ReconsiderationAlreadyRequested",
            )
        # While the calendar cannot yet count the deadline, requests are taken.
        if self._stage is ReviewStage.FINAL or (
            self._deadline is not None and workflow.now() >= self._deadline
        ):
            raise ApplicationError(
                "the reconsideration period ended at "
                f"{self._deadline.isoformat() if self._deadline else 'its deadline'}",
                type="ReconsiderationWindowClosed",
            )

    @workflow.update(name=DECIDE_RECONSIDERATION_UPDATE)
    def decide_reconsideration(self, decision: ReconsiderationDecision) -> ReviewState:
        self._decision = decision
        return self.review_state()

    @decide_reconsideration.validator
    def _validate_decision(self, decision: ReconsiderationDecision) -> None:
        if self._stage is not ReviewStage.RECONSIDERING or self._decision is not None:
            raise ApplicationError(
                f"the ruling is not awaiting reconsideration (it is {self._stage})",
                type="NotReconsidering",
            )
        first_officer = self._request.content.ruling.officer_id
        if decision.officer_id == first_officer:
            raise ApplicationError(
                f"officer {first_officer} gave the first ruling; a different officer "
                "must reconsider it",
                type="SameOfficer",
            )
        if decision.ruling is not None:
            expected = self._request.case.party_ids()
            ruled = {item.party_id for item in decision.ruling.liabilities}
            if ruled != expected:
                raise ApplicationError(
                    f"the ruling names parties {sorted(ruled)} but the case has "
                    f"{sorted(expected)}",
                    type="PartiesMismatch",
                )

    @workflow.query(name=REVIEW_STATE_QUERY)
    def review_state(self) -> ReviewState:
        return ReviewState(
            stage=self._stage,
            document_number=self._request.document.document_number,
            versions=self._versions,
            deadline=self._deadline,
            answers=list(self._answers.values()),
            request=self._reconsideration,
            decision=self._decision,
            reconsideration_document=self._reconsideration_document,
        )

    def _check_party(self, party_id: str) -> None:
        if party_id not in self._request.case.party_ids():
            raise ApplicationError(
                f"party {party_id} is not a party of this case", type="UnknownParty"
            )

    async def _issue_version(self) -> None:
        content = self._request.content.model_copy(
            update={
                "version": len(self._versions) + 1,
                "reconsideration_deadline": self._deadline,
                "answers": sorted(
                    self._answers.values(), key=lambda answer: answer.party_id
                ),
            }
        )
        issued = await workflow.execute_activity_method(
            DocumentActivities.issue_ruling_document,
            content,
            start_to_close_timeout=DOCUMENT_TIMEOUT,
            retry_policy=PUBLISH_RETRY,
        )
        self._versions.append(issued.document)

    async def _publish_request(self, request: ReconsiderationRequest) -> None:
        assert request.requested_at is not None
        await workflow.execute_activity_method(
            ReviewActivities.publish_reconsideration_requested,
            CaseReconsiderationRequested(
                **self._event_fields(),
                document_number=self._request.document.document_number,
                ruling=self._request.content.ruling,
                party_id=request.party_id,
                reason=request.reason,
                requested_at=request.requested_at,
            ),
            start_to_close_timeout=PUBLISH_TIMEOUT,
            retry_policy=PUBLISH_RETRY,
        )

    async def _issue_reconsideration(
        self, decision: ReconsiderationDecision
    ) -> IssuedDocument:
        first = self._request.content
        ruling = decision.ruling or first.ruling.model_copy(
            update={"officer_id": decision.officer_id}
        )
        content = first.model_copy(
            update={
                "document_number": reconsideration_document_number(
                    first.document_number
                ),
                "kind": DocumentKind.RECONSIDERATION,
                "version": 1,
                "issued_at": workflow.now(),
                "ruling": ruling,
                "accident_type_name_zh": ""
                if decision.ruling is not None
                else first.accident_type_name_zh,
                "reconsideration_deadline": None,
                "answers": [],
                "replaces_document": first.document_number,
                "reconsideration_outcome": decision.outcome,
                "reconsideration_reason": decision.reason,
            }
        )
        issued = await workflow.execute_activity_method(
            DocumentActivities.issue_ruling_document,
            content,
            start_to_close_timeout=DOCUMENT_TIMEOUT,
            retry_policy=PUBLISH_RETRY,
        )
        document = issued.document
        self._reconsideration_document = document
        await workflow.execute_activity_method(
            ReviewActivities.publish_reconsidered,
            CaseReconsidered(
                **self._event_fields(),
                outcome=decision.outcome.value,
                first_document_number=first.document_number,
                document_number=document.document_number,
                ruling=ruling,
                accident_at=first.accident_at,
                location=first.location,
                parties=first.parties,
            ),
            start_to_close_timeout=PUBLISH_TIMEOUT,
            retry_policy=PUBLISH_RETRY,
        )
        await self._send_decision_sms(document, decision.outcome)
        return document

    async def _send_decision_sms(
        self, document: IssuedDocument, outcome: ReconsiderationOutcome
    ) -> None:
        case = self._request.case
        outcome_zh = (
            "维持原认定"
            if outcome is ReconsiderationOutcome.CONFIRMED
            else "撤销原认定并重新认定"
        )
        messages = [
            SmsRequested(
                **self._event_fields(),
                message_id=f"{case.case_id}:reconsideration_decided:{party.party_id}",
                party_id=party.party_id,
                phone=party.phone,
                template="reconsideration_decided",
                variables={
                    "case_number": str(case.case_id)[:8],
                    "plate": party.plate,
                    "outcome": outcome_zh,
                    "document_number": document.document_number,
                },
            )
            for party in case.parties
        ]
        await workflow.execute_activity_method(
            CaseActivities.request_sms,
            SmsBatch(messages=messages),
            start_to_close_timeout=PUBLISH_TIMEOUT,
            retry_policy=PUBLISH_RETRY,
        )

    def _event_fields(self) -> dict[str, object]:
        return {
            "event_id": workflow.uuid4(),
            "case_id": self._request.case.case_id,
            "occurred_at": workflow.now(),
            "trace_id": self._request.trace_id,
        }
