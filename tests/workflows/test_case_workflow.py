"""The case workflow's decisions, with activities replaced by recording stand-ins."""

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from contracts.case import (
    CaseDetails,
    EvidenceFacts,
    EvidenceFinding,
    FindingSeverity,
    Location,
    NewCase,
    StoredEvidence,
    assign_party_ids,
)
from contracts.documents import IssuedDocument, RulingDocumentContent
from contracts.events import (
    CaseClosed,
    CaseEscalated,
    CaseQueued,
    CaseRuled,
    EvidenceRejected,
    SettlementEscalated,
)
from contracts.ruling import Ruling, RulingDraft
from contracts.workflow import (
    CaseClaimed,
    CaseOutcome,
    CaseStage,
    CaseWorkflowInput,
    ClaimRefusedSignal,
    ClaimSettledSignal,
    EvidenceResubmittedSignal,
    InsurerNotified,
    SubmitRulingInput,
    evidence_task_queue,
)
from demo.client import sample_case, sample_ruling
from workflows.case.models import (
    EvidenceCheckInput,
    EvidenceCheckResult,
    ExamineEvidenceInput,
    ExamineEvidenceResult,
    HashEvidenceInput,
    HashEvidenceResult,
    ReminderBatch,
    SettlementLinkInput,
    SmsBatch,
)
from workflows.case.workflow import RemoteLiabilityCaseWorkflow
from workflows.review.models import DocumentIssued
from workflows.review.workflow import RulingReviewWorkflow

REJECTED = ExamineEvidenceResult(
    findings=[
        EvidenceFinding(
            code="recording_location_mismatch",
            severity=FindingSeverity.REJECT,
            message="Rejected: the video was recorded 12.0 km away",
            message_zh="视频未通过：拍摄地点距事故地点 12.0 公里。",
        )
    ]
)
ACCEPTED = ExamineEvidenceResult(
    findings=[
        EvidenceFinding(
            code="too_dark",
            severity=FindingSeverity.WARN,
            message="Warning: the video is dark",
        )
    ],
    thumbnails=["cases/x/video-thumbnail-0.jpg"],
)


class StandInActivities:
    """Activities under their real names that record what the workflow asked.

    ``examinations`` are the results of successive examinations; the last one
    repeats. ``stored_sha256`` replaces the hash that storage returns.
    """

    def __init__(
        self,
        examinations: list[ExamineEvidenceResult] | None = None,
        stored_sha256: str | None = None,
    ) -> None:
        self.examinations = examinations or [ACCEPTED]
        self.stored_sha256 = stored_sha256
        self.examined: list[str] = []
        self.evidence_task_queues: list[str] = []
        self.rejections: list[EvidenceRejected] = []
        self.queued: list[CaseQueued] = []
        self.sms: list[str] = []
        self.sms_variables: dict[str, dict[str, str]] = {}
        self.published: list[str] = []
        self.documents: list[RulingDocumentContent] = []
        self.document_numbers: list[str] = []
        self.escalations: list[CaseEscalated] = []
        self.reminders: list[str] = []
        self.settlement_links: list[SettlementLinkInput] = []
        self.queue_publish_done = asyncio.Event()
        self.queue_publish_done.set()

    @activity.defn(name="check_evidence")
    async def check_evidence(self, request: EvidenceCheckInput) -> EvidenceCheckResult:
        return EvidenceCheckResult(accepted=True)

    @activity.defn(name="hash_evidence")
    async def hash_evidence(self, request: HashEvidenceInput) -> HashEvidenceResult:
        self.evidence_task_queues.append(activity.info().task_queue)
        sha256 = self.stored_sha256 or request.video.sha256
        return HashEvidenceResult(sha256=sha256, size_bytes=request.video.size_bytes)

    @activity.defn(name="examine_evidence")
    async def examine_evidence(
        self, request: ExamineEvidenceInput
    ) -> ExamineEvidenceResult:
        self.evidence_task_queues.append(activity.info().task_queue)
        self.examined.append(request.video.object_key)
        index = min(len(self.examined), len(self.examinations)) - 1
        return self.examinations[index]

    @activity.defn(name="request_resubmission")
    async def request_resubmission(self, event: EvidenceRejected) -> None:
        self.rejections.append(event)
        self.published.append(event.topic)

    @activity.defn(name="queue_for_officer")
    async def queue_for_officer(self, event: CaseQueued) -> None:
        self.queued.append(event)
        self.published.append(event.topic)
        await self.queue_publish_done.wait()

    @activity.defn(name="publish_escalation")
    async def publish_escalation(self, event: CaseEscalated) -> None:
        self.escalations.append(event)

    @activity.defn(name="publish_ruling")
    async def publish_ruling(self, event: CaseRuled) -> None:
        self.published.append(event.topic)
        self.document_numbers.append(event.document_number)

    @activity.defn(name="issue_ruling_document")
    async def issue_ruling_document(
        self, content: RulingDocumentContent
    ) -> DocumentIssued:
        self.documents.append(content)
        document = IssuedDocument(
            document_number=content.document_number,
            version=content.version,
            kind=content.kind,
            case_id=content.case_id,
            object_key=f"documents/{content.document_number}/v1.pdf",
            sha256="1" * 64,
            signature="00",
            key_id="0" * 16,
            issued_at=content.issued_at,
            code_sha256="2" * 64,
            # A deadline already passed lets the review child finish at once. A
            # child left waiting after its test's worker stops would keep a
            # workflow task pending, and the time-skipping server would then not
            # skip time for the next test.
            reconsideration_deadline=content.issued_at - timedelta(seconds=1),
        )
        return DocumentIssued(
            document=document,
            content=content,
            links={
                party.party_id: f"https://phone.example/{party.party_id}"
                for party in content.parties
            },
        )

    @activity.defn(name="request_sms")
    async def request_sms(self, batch: SmsBatch) -> None:
        for message in batch.messages:
            name = message.message_id.split(":", 1)[1]
            self.sms.append(name)
            self.sms_variables[name] = message.variables

    @activity.defn(name="publish_case_closed")
    async def publish_case_closed(self, event: CaseClosed) -> None:
        self.published.append(f"{event.topic}:{event.outcome}")

    @activity.defn(name="remind_insurers")
    async def remind_insurers(self, batch: ReminderBatch) -> None:
        self.reminders.extend(reminder.insurer_code for reminder in batch.reminders)

    @activity.defn(name="publish_settlement_escalation")
    async def publish_settlement_escalation(self, event: SettlementEscalated) -> None:
        self.published.append(f"{event.topic}:{','.join(event.insurer_codes)}")

    @activity.defn(name="text_settlement_link")
    async def text_settlement_link(self, request: SettlementLinkInput) -> None:
        self.settlement_links.append(request)

    def evidence(self) -> list[Callable[..., Any]]:
        """The activities that the evidence worker serves on its own queue."""
        return [self.hash_evidence, self.examine_evidence]

    def all(self) -> list[Callable[..., Any]]:
        """The activities that the case worker serves on the case queue."""
        return [
            self.text_settlement_link,
            self.remind_insurers,
            self.publish_settlement_escalation,
            self.check_evidence,
            self.request_resubmission,
            self.queue_for_officer,
            self.publish_escalation,
            self.publish_ruling,
            self.issue_ruling_document,
            self.request_sms,
            self.publish_case_closed,
        ]


def _video(name: str, sha256: str = "0" * 64) -> StoredEvidence:
    return StoredEvidence(
        object_key=name,
        sha256=sha256,
        size_bytes=1000,
        content_type="video/mp4",
        facts=EvidenceFacts(duration_seconds=8, codec="h264", width=640, height=360),
    )


def _case_input() -> CaseWorkflowInput:
    new_case = NewCase.model_validate(sample_case())
    case = CaseDetails(
        case_id=uuid.uuid4(),
        accident_at=new_case.accident_at,
        location=Location.model_validate(new_case.location.model_dump()),
        parties=assign_party_ids(new_case.parties),
    )
    return CaseWorkflowInput(case=case, video=_video(f"cases/{case.case_id}/video"))


async def _start(
    environment: WorkflowEnvironment, task_queue: str
) -> WorkflowHandle[RemoteLiabilityCaseWorkflow, CaseOutcome]:
    request = _case_input()
    return await environment.client.start_workflow(
        RemoteLiabilityCaseWorkflow.run,
        request,
        id=f"case-{request.case.case_id}",
        task_queue=task_queue,
    )


async def _wait_for_stage(
    handle: WorkflowHandle[RemoteLiabilityCaseWorkflow, CaseOutcome], stage: CaseStage
) -> None:
    for _ in range(200):
        timeline = await handle.query(RemoteLiabilityCaseWorkflow.timeline)
        if timeline.stage is stage:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"workflow never reached {stage}")


async def _claim(
    handle: WorkflowHandle[RemoteLiabilityCaseWorkflow, CaseOutcome],
) -> None:
    """Claim the case as the sample ruling's officer, as the liability API does."""
    await handle.signal(
        RemoteLiabilityCaseWorkflow.case_claimed, CaseClaimed(officer_badge="330102")
    )


async def _rule_and_notify_insurers(
    handle: WorkflowHandle[RemoteLiabilityCaseWorkflow, CaseOutcome],
) -> None:
    await _claim(handle)
    await handle.execute_update(
        RemoteLiabilityCaseWorkflow.submit_ruling,
        SubmitRulingInput(ruling=Ruling.model_validate(sample_ruling())),
    )
    for code in ("PICC", "PAIC"):
        await handle.signal(
            RemoteLiabilityCaseWorkflow.insurer_notified,
            InsurerNotified(insurer_code=code),
        )


async def _settle_claim(
    handle: WorkflowHandle[RemoteLiabilityCaseWorkflow, CaseOutcome], code: str
) -> None:
    await handle.signal(
        RemoteLiabilityCaseWorkflow.claim_settled,
        ClaimSettledSignal(
            insurer_code=code, claim_number=f"{code}-1", amount_cents=100
        ),
    )


class _Workers:
    """A case worker and an evidence worker, started and stopped together."""

    def __init__(self, *workers: Worker) -> None:
        self._workers = workers
        self._stack = contextlib.AsyncExitStack()

    async def __aenter__(self) -> "_Workers":
        for worker in self._workers:
            await self._stack.enter_async_context(worker)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._stack.aclose()


def _worker(
    environment: WorkflowEnvironment, activities: StandInActivities
) -> tuple[_Workers, str]:
    """Return the workers of a fresh case queue and that queue's name.

    The evidence stand-ins are registered only on the evidence queue, so a check
    scheduled on the case queue would fail there and never finish.
    """
    task_queue = f"test-{uuid.uuid4()}"
    case_worker = Worker(
        environment.client,
        task_queue=task_queue,
        workflows=[RemoteLiabilityCaseWorkflow, RulingReviewWorkflow],
        activities=activities.all(),
    )
    evidence_worker = Worker(
        environment.client,
        task_queue=evidence_task_queue(task_queue),
        activities=activities.evidence(),
    )
    return _Workers(case_worker, evidence_worker), task_queue


async def test_case_settles_after_ruling_and_claims(
    dev_server: WorkflowEnvironment,
) -> None:
    activities = StandInActivities()
    worker, task_queue = _worker(dev_server, activities)
    async with worker:
        handle = await _start(dev_server, task_queue)
        await _wait_for_stage(handle, CaseStage.AWAITING_RULING)

        await _rule_and_notify_insurers(handle)
        for code in ("PICC", "PAIC"):
            await _settle_claim(handle, code)
        outcome = await handle.result()

    assert outcome.outcome == "settled"
    assert activities.published == ["case.queued", "case.ruled", "case.closed:settled"]
    assert sorted(activities.sms) == sorted(
        f"{template}:{party}"
        for template in ("evidence_received", "ruling_issued", "claim_settled")
        for party in "AB"
    )
    document = activities.documents[0]
    assert document.evidence_sha256 == ["0" * 64]
    assert [party.party_id for party in document.parties] == ["A", "B"]
    assert activities.document_numbers == [document.document_number]
    assert activities.sms_variables["ruling_issued:B"]["share"] == "100"
    assert activities.sms_variables["ruling_issued:B"]["document_number"] == (
        document.document_number
    )
    assert activities.sms_variables["ruling_issued:A"]["link"] == (
        "https://phone.example/A"
    )
    steps = [entry.step for entry in outcome.timeline]
    assert "ruling document issued" in steps
    assert "ruling review started" in steps


async def test_evidence_checks_run_on_evidence_queue(
    dev_server: WorkflowEnvironment,
) -> None:
    activities = StandInActivities()
    worker, task_queue = _worker(dev_server, activities)
    async with worker:
        handle = await _start(dev_server, task_queue)
        await _wait_for_stage(handle, CaseStage.AWAITING_RULING)
        history = await handle.fetch_history()

    scheduled = {
        event.activity_task_scheduled_event_attributes.activity_type.name: (
            event.activity_task_scheduled_event_attributes.task_queue.name
        )
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
    }
    assert activities.evidence_task_queues == [
        f"{task_queue}-evidence",
        f"{task_queue}-evidence",
    ]
    assert scheduled["hash_evidence"] == f"{task_queue}-evidence"
    assert scheduled["examine_evidence"] == f"{task_queue}-evidence"
    assert scheduled["queue_for_officer"] == task_queue


async def test_ruling_naming_wrong_parties_is_rejected(
    dev_server: WorkflowEnvironment,
) -> None:
    worker, task_queue = _worker(dev_server, StandInActivities())
    ruling = sample_ruling()
    ruling["liabilities"][1]["party_id"] = "C"
    async with worker:
        handle = await _start(dev_server, task_queue)
        await _wait_for_stage(handle, CaseStage.AWAITING_RULING)
        await _claim(handle)

        with pytest.raises(WorkflowUpdateFailedError) as error:
            await handle.execute_update(
                RemoteLiabilityCaseWorkflow.submit_ruling,
                SubmitRulingInput(ruling=RulingDraft.model_validate(ruling)),
            )
        timeline = await handle.query(RemoteLiabilityCaseWorkflow.timeline)
        await handle.terminate()

    assert "the case has ['A', 'B']" in str(error.value.cause)
    assert timeline.stage is CaseStage.AWAITING_RULING


async def test_second_ruling_is_rejected(dev_server: WorkflowEnvironment) -> None:
    worker, task_queue = _worker(dev_server, StandInActivities())
    ruling = SubmitRulingInput(ruling=Ruling.model_validate(sample_ruling()))
    async with worker:
        handle = await _start(dev_server, task_queue)
        await _wait_for_stage(handle, CaseStage.AWAITING_RULING)
        await _claim(handle)
        await handle.execute_update(RemoteLiabilityCaseWorkflow.submit_ruling, ruling)

        with pytest.raises(WorkflowUpdateFailedError) as error:
            await handle.execute_update(
                RemoteLiabilityCaseWorkflow.submit_ruling, ruling
            )
        await handle.terminate()

    assert "is not waiting for a ruling" in str(error.value.cause)


async def test_accepted_evidence_carries_warnings_to_queue(
    dev_server: WorkflowEnvironment,
) -> None:
    activities = StandInActivities()
    worker, task_queue = _worker(dev_server, activities)
    async with worker:
        handle = await _start(dev_server, task_queue)
        await _wait_for_stage(handle, CaseStage.AWAITING_RULING)
        timeline = await handle.query(RemoteLiabilityCaseWorkflow.timeline)
        await handle.terminate()

    queued = activities.queued[0]
    assert [finding.code for finding in queued.findings] == ["too_dark"]
    assert queued.thumbnails == ["cases/x/video-thumbnail-0.jpg"]
    assert ("evidence warnings", "too_dark") in [
        (entry.step, entry.detail) for entry in timeline.entries
    ]


async def test_unreplaced_evidence_goes_on_scene_at_deadline(
    time_skipping: WorkflowEnvironment,
) -> None:
    activities = StandInActivities(examinations=[REJECTED])
    worker, task_queue = _worker(time_skipping, activities)
    async with worker:
        handle = await _start(time_skipping, task_queue)
        outcome = await handle.result()

    assert outcome.outcome == "sent_on_scene"
    assert activities.published == ["evidence.rejected", "case.closed:sent_on_scene"]
    rejection = activities.rejections[0]
    assert rejection.message == "Rejected: the video was recorded 12.0 km away"
    assert rejection.findings[0].code == "recording_location_mismatch"
    assert rejection.attempt == 1
    assert sorted(activities.sms) == [
        "evidence_sent_on_scene:A",
        "evidence_sent_on_scene:B",
    ]
    steps = {entry.step: entry.at for entry in outcome.timeline}
    waited = steps["resubmission overdue"] - steps["evidence rejected"]
    assert timedelta(hours=2) <= waited < timedelta(hours=2, minutes=1)


async def test_replacement_video_is_checked_and_queued(
    time_skipping: WorkflowEnvironment,
) -> None:
    activities = StandInActivities(examinations=[REJECTED, ACCEPTED])
    worker, task_queue = _worker(time_skipping, activities)
    replacement = _video("cases/x/video-2", sha256="1" * 64)
    async with worker:
        handle = await _start(time_skipping, task_queue)
        await _wait_for_stage(handle, CaseStage.AWAITING_RESUBMISSION)

        await handle.signal(
            RemoteLiabilityCaseWorkflow.evidence_resubmitted,
            EvidenceResubmittedSignal(video=replacement),
        )
        await _wait_for_stage(handle, CaseStage.AWAITING_RULING)
        await handle.terminate()

    assert activities.examined[1] == "cases/x/video-2"
    assert activities.queued[0].video == replacement
    assert "evidence_received:A" in activities.sms


async def test_changed_stored_video_is_rejected(
    time_skipping: WorkflowEnvironment,
) -> None:
    activities = StandInActivities(stored_sha256="f" * 64)
    worker, task_queue = _worker(time_skipping, activities)
    async with worker:
        handle = await _start(time_skipping, task_queue)
        outcome = await handle.result()

    assert outcome.outcome == "sent_on_scene"
    assert activities.examined == []
    finding = activities.rejections[0].findings[0]
    assert finding.code == "stored_video_damaged"
    assert "differs from" in finding.message


async def test_third_rejection_goes_on_scene(
    time_skipping: WorkflowEnvironment,
) -> None:
    activities = StandInActivities(examinations=[REJECTED])
    worker, task_queue = _worker(time_skipping, activities)
    async with worker:
        handle = await _start(time_skipping, task_queue)
        for attempt in (2, 3):
            await _wait_for_stage(handle, CaseStage.AWAITING_RESUBMISSION)
            await handle.signal(
                RemoteLiabilityCaseWorkflow.evidence_resubmitted,
                EvidenceResubmittedSignal(video=_video(f"cases/x/video-{attempt}")),
            )
            await _wait_for_examinations(activities, attempt)
        outcome = await handle.result()

    assert outcome.outcome == "sent_on_scene"
    assert len(activities.examined) == 3
    assert [event.attempt for event in activities.rejections] == [1, 2]


async def _wait_for_examinations(activities: StandInActivities, count: int) -> None:
    for _ in range(200):
        if len(activities.examined) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {count} examinations")


async def test_unsettled_claims_close_case_after_deadline(
    time_skipping: WorkflowEnvironment,
) -> None:
    activities = StandInActivities()
    worker, task_queue = _worker(time_skipping, activities)
    async with worker:
        handle = await _start(time_skipping, task_queue)
        await _wait_for_stage(handle, CaseStage.AWAITING_RULING)
        await _rule_and_notify_insurers(handle)
        await _settle_claim(handle, "PICC")
        outcome = await handle.result()

    assert outcome.outcome == "settlement_overdue"
    overdue = next(e for e in outcome.timeline if e.step == "settlement overdue")
    assert overdue.detail == "PAIC"
    assert overdue.at - outcome.timeline[0].at >= timedelta(days=30)
    reminded = next(e for e in outcome.timeline if e.step == "insurers reminded")
    escalated = next(e for e in outcome.timeline if e.step == "settlement escalated")
    assert activities.reminders == ["PAIC"]
    assert "settlement.escalated:PAIC" in activities.published
    assert timedelta(days=2) <= reminded.at - outcome.timeline[0].at < timedelta(days=3)
    assert (
        timedelta(days=5) <= escalated.at - outcome.timeline[0].at < timedelta(days=6)
    )


async def test_insurer_answering_after_reminder_is_not_escalated(
    time_skipping: WorkflowEnvironment,
) -> None:
    activities = StandInActivities()
    worker, task_queue = _worker(time_skipping, activities)
    async with worker:
        handle = await _start(time_skipping, task_queue)
        await _wait_for_stage(handle, CaseStage.AWAITING_RULING)
        await _rule_and_notify_insurers(handle)
        await _wait_for_stage(handle, CaseStage.AWAITING_SETTLEMENT)
        await _settle_claim(handle, "PICC")
        await time_skipping.sleep(timedelta(days=3))
        await handle.signal(
            RemoteLiabilityCaseWorkflow.claim_refused,
            ClaimRefusedSignal(
                insurer_code="PAIC", claim_number="PAIC-1", reason="保单已失效"
            ),
        )
        outcome = await handle.result()

    steps = [entry.step for entry in outcome.timeline]
    assert outcome.outcome == "claim_refused"
    assert activities.reminders == ["PAIC"]
    assert "settlement escalated" not in steps
    assert "claim refused" in steps


async def test_ruling_accepted_before_queue_publish_completes(
    dev_server: WorkflowEnvironment,
) -> None:
    activities = StandInActivities()
    activities.queue_publish_done.clear()
    worker, task_queue = _worker(dev_server, activities)
    async with worker:
        handle = await _start(dev_server, task_queue)
        await _wait_for_stage(handle, CaseStage.AWAITING_RULING)

        # Officers can see the case once Kafka has the event, before the activity
        # that published it is recorded as complete.
        await _claim(handle)
        accepted = await handle.execute_update(
            RemoteLiabilityCaseWorkflow.submit_ruling,
            SubmitRulingInput(ruling=Ruling.model_validate(sample_ruling())),
        )
        activities.queue_publish_done.set()
        for code in ("PICC", "PAIC"):
            await handle.signal(
                RemoteLiabilityCaseWorkflow.insurer_notified,
                InsurerNotified(insurer_code=code),
            )
            await _settle_claim(handle, code)
        outcome = await handle.result()

    assert accepted.ruling is not None
    assert outcome.outcome == "settled"
    steps = [entry.step for entry in outcome.timeline]
    assert steps.index("ruling accepted") < steps.index("queued for officer")
