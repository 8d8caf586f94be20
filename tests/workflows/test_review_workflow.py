"""The ruling review workflow: answers, the reconsideration window and its outcome.

Deadlines run on the time-skipping server; answers and requests are updates, which
only the dev server supports.
"""

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from contracts.case import CaseDetails, Location, NewCase, assign_party_ids
from contracts.documents import (
    DocumentKind,
    IssuedDocument,
    PartyAnswerKind,
    ReconsiderationOutcome,
    RulingDocumentContent,
)
from contracts.events import (
    CaseReconsiderationRequested,
    CaseReconsidered,
    PartySummary,
)
from contracts.review import (
    ANSWER_RULING_UPDATE,
    AnswerRulingInput,
    ReconsiderationDecision,
    ReconsiderationRequest,
    ReviewInput,
    ReviewOutcome,
    ReviewStage,
    ReviewState,
)
from contracts.ruling import Ruling
from demo.client import sample_case, sample_ruling
from workflows.case.models import SmsBatch
from workflows.review.models import DeadlineInput, DocumentIssued
from workflows.review.workflow import RulingReviewWorkflow

FIRST_OFFICER = sample_ruling()["officer_id"]


class StandInActivities:
    """Document and review activities under their real names, recording calls."""

    def __init__(self, deadline_after: timedelta = timedelta(days=5)) -> None:
        self.deadline_after = deadline_after
        self.issued: list[RulingDocumentContent] = []
        self.deadline_requests: list[datetime] = []
        self.requests: list[CaseReconsiderationRequested] = []
        self.reconsidered: list[CaseReconsidered] = []
        self.sms: list[str] = []

    @activity.defn(name="issue_ruling_document")
    async def issue_ruling_document(
        self, content: RulingDocumentContent
    ) -> DocumentIssued:
        self.issued.append(content)
        return DocumentIssued(document=_issued(content), content=content)

    @activity.defn(name="count_reconsideration_deadline")
    async def count_reconsideration_deadline(self, request: DeadlineInput) -> datetime:
        self.deadline_requests.append(request.delivered_at)
        return request.delivered_at + self.deadline_after

    @activity.defn(name="publish_reconsideration_requested")
    async def publish_reconsideration_requested(
        self, event: CaseReconsiderationRequested
    ) -> None:
        self.requests.append(event)

    @activity.defn(name="publish_reconsidered")
    async def publish_reconsidered(self, event: CaseReconsidered) -> None:
        self.reconsidered.append(event)

    @activity.defn(name="request_sms")
    async def request_sms(self, batch: SmsBatch) -> None:
        self.sms.extend(
            message.message_id.split(":", 1)[1] for message in batch.messages
        )

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.issue_ruling_document,
            self.count_reconsideration_deadline,
            self.publish_reconsideration_requested,
            self.publish_reconsidered,
            self.request_sms,
        ]


def _issued(content: RulingDocumentContent) -> IssuedDocument:
    return IssuedDocument(
        document_number=content.document_number,
        version=content.version,
        kind=content.kind,
        case_id=content.case_id,
        object_key=f"documents/{content.document_number}/v{content.version}.pdf",
        sha256=f"{content.version:x}" * 64,
        signature="00",
        key_id="0" * 16,
        issued_at=content.issued_at,
        code_sha256="2" * 64,
        reconsideration_deadline=content.reconsideration_deadline,
    )


def _review_input(delivered_at: datetime, deadline: datetime | None) -> ReviewInput:
    new_case = NewCase.model_validate(sample_case())
    case = CaseDetails(
        case_id=uuid.uuid4(),
        accident_at=new_case.accident_at,
        location=Location.model_validate(new_case.location.model_dump()),
        parties=assign_party_ids(new_case.parties),
    )
    content = RulingDocumentContent(
        document_number=f"DZ20261204-{case.case_id.hex[:8].upper()}",
        case_id=case.case_id,
        issued_at=delivered_at,
        accident_at=case.accident_at,
        location=case.location,
        parties=[
            PartySummary.model_validate(party.model_dump()) for party in case.parties
        ],
        ruling=Ruling.model_validate(sample_ruling()),
        evidence_sha256=["0" * 64],
        reconsideration_deadline=deadline,
    )
    return ReviewInput(case=case, content=content, document=_issued(content))


async def _start(
    environment: WorkflowEnvironment,
    activities: StandInActivities,
    deadline_after: timedelta | None = timedelta(days=5),
) -> tuple[Worker, WorkflowHandle[RulingReviewWorkflow, ReviewOutcome]]:
    task_queue = f"review-{uuid.uuid4()}"
    worker = Worker(
        environment.client,
        task_queue=task_queue,
        workflows=[RulingReviewWorkflow],
        activities=activities.all(),
    )
    now = await environment.get_current_time()
    deadline = None if deadline_after is None else now + deadline_after
    request = _review_input(now, deadline)
    handle = await environment.client.start_workflow(
        RulingReviewWorkflow.run,
        request,
        id=f"review-{request.case.case_id}",
        task_queue=task_queue,
    )
    return worker, handle


def _decision(officer_id: str, replace: bool) -> ReconsiderationDecision:
    if not replace:
        return ReconsiderationDecision(
            officer_id=officer_id,
            outcome=ReconsiderationOutcome.CONFIRMED,
            reason="视频清楚显示乙车追尾。",
        )
    ruling = Ruling.model_validate(
        {
            **sample_ruling(),
            "officer_id": officer_id,
            "departure_reason": "甲车无故急刹。",
            "liabilities": [
                {"party_id": "A", "category": "secondary", "share": 30},
                {"party_id": "B", "category": "primary", "share": 70},
            ],
        }
    )
    return ReconsiderationDecision(
        officer_id=officer_id,
        outcome=ReconsiderationOutcome.REPLACED,
        reason="甲车无故急刹，应承担次要责任。",
        ruling=ruling,
    )


async def test_window_closes_at_deadline(time_skipping: WorkflowEnvironment) -> None:
    activities = StandInActivities()
    worker, handle = await _start(time_skipping, activities, timedelta(days=5))
    async with worker:
        started = await time_skipping.get_current_time()
        outcome = await handle.result()
        ended = await time_skipping.get_current_time()

    assert not outcome.reconsidered
    assert outcome.final_document_number.startswith("DZ20261204-")
    assert ended - started >= timedelta(days=5)
    assert activities.requests == []
    assert activities.deadline_requests == []


async def test_unknown_deadline_is_counted(time_skipping: WorkflowEnvironment) -> None:
    activities = StandInActivities(deadline_after=timedelta(days=3))
    worker, handle = await _start(time_skipping, activities, deadline_after=None)
    async with worker:
        started = await time_skipping.get_current_time()
        outcome = await handle.result()
        ended = await time_skipping.get_current_time()

    assert not outcome.reconsidered
    assert len(activities.deadline_requests) == 1
    assert ended - started >= timedelta(days=3)


async def test_request_goes_to_another_officer(
    dev_server: WorkflowEnvironment,
) -> None:
    activities = StandInActivities()
    worker, handle = await _start(dev_server, activities)
    async with worker:
        state = await handle.execute_update(
            RulingReviewWorkflow.request_reconsideration,
            ReconsiderationRequest(party_id="A", reason="对方急刹，我不应负全责。"),
        )
        with pytest.raises(WorkflowUpdateFailedError) as second:
            await handle.execute_update(
                RulingReviewWorkflow.request_reconsideration,
                ReconsiderationRequest(party_id="B", reason="再次申请。"),
            )
        with pytest.raises(WorkflowUpdateFailedError) as same_officer:
            await handle.execute_update(
                RulingReviewWorkflow.decide_reconsideration,
                _decision(FIRST_OFFICER, replace=False),
            )
        await handle.execute_update(
            RulingReviewWorkflow.decide_reconsideration,
            _decision("330777", replace=True),
        )
        outcome = await handle.result()
        final = await handle.query(RulingReviewWorkflow.review_state)

    assert state.request is not None
    assert state.request.requested_at is not None
    assert _error_type(second.value) == "ReconsiderationAlreadyRequested"
    assert _error_type(same_officer.value) == "SameOfficer"
    assert [event.party_id for event in activities.requests] == ["A"]
    assert outcome.reconsidered
    assert outcome.outcome is ReconsiderationOutcome.REPLACED
    assert outcome.final_document_number.endswith("-F")
    reconsideration = activities.issued[-1]
    assert reconsideration.kind is DocumentKind.RECONSIDERATION
    assert reconsideration.replaces_document == final.document_number
    assert reconsideration.ruling.share_of("A") == 30
    assert reconsideration.ruling.officer_id == "330777"
    # Both rulings stay on file: the first document and the reconsideration.
    assert [version.version for version in final.versions] == [1]
    assert final.reconsideration_document is not None
    assert activities.reconsidered[0].first_document_number == final.document_number
    assert activities.reconsidered[0].outcome == "replaced"
    assert sorted(activities.sms) == [
        "reconsideration_decided:A",
        "reconsideration_decided:B",
    ]
    assert final.stage is ReviewStage.FINAL


async def test_confirmed_ruling_keeps_shares(dev_server: WorkflowEnvironment) -> None:
    activities = StandInActivities()
    worker, handle = await _start(dev_server, activities)
    async with worker:
        await handle.execute_update(
            RulingReviewWorkflow.request_reconsideration,
            ReconsiderationRequest(party_id="B", reason="我方未追尾。"),
        )
        await handle.execute_update(
            RulingReviewWorkflow.decide_reconsideration,
            _decision("330777", replace=False),
        )
        outcome = await handle.result()

    assert outcome.outcome is ReconsiderationOutcome.CONFIRMED
    confirmed = activities.issued[-1]
    assert confirmed.ruling.share_of("B") == 100
    assert confirmed.ruling.officer_id == "330777"
    assert activities.reconsidered[0].outcome == "confirmed"


async def test_refusal_issues_new_version(dev_server: WorkflowEnvironment) -> None:
    activities = StandInActivities()
    worker, handle = await _start(dev_server, activities)
    async with worker:
        acknowledged = await handle.execute_update(
            ANSWER_RULING_UPDATE,
            AnswerRulingInput(party_id="A", answer=PartyAnswerKind.ACKNOWLEDGED),
            result_type=ReviewState,
        )
        refused = await handle.execute_update(
            ANSWER_RULING_UPDATE,
            AnswerRulingInput(
                party_id="B", answer=PartyAnswerKind.REFUSED, reason="不认可。"
            ),
            result_type=ReviewState,
        )
        with pytest.raises(WorkflowUpdateFailedError) as again:
            await handle.execute_update(
                ANSWER_RULING_UPDATE,
                AnswerRulingInput(party_id="B", answer=PartyAnswerKind.ACKNOWLEDGED),
            )
        with pytest.raises(WorkflowUpdateFailedError) as stranger:
            await handle.execute_update(
                ANSWER_RULING_UPDATE,
                AnswerRulingInput(party_id="C", answer=PartyAnswerKind.ACKNOWLEDGED),
            )
        await handle.terminate()

    assert [version.version for version in acknowledged.versions] == [1]
    assert [version.version for version in refused.versions] == [1, 2]
    second = activities.issued[-1]
    assert second.version == 2
    assert second.document_number == refused.document_number
    assert [(a.party_id, a.answer) for a in second.answers] == [
        ("A", PartyAnswerKind.ACKNOWLEDGED),
        ("B", PartyAnswerKind.REFUSED),
    ]
    assert second.answers[1].reason == "不认可。"
    assert _error_type(again.value) == "AlreadyAnswered"
    assert _error_type(stranger.value) == "UnknownParty"


def _error_type(error: WorkflowUpdateFailedError) -> str | None:
    cause = error.cause
    return cause.type if isinstance(cause, ApplicationError) else None
