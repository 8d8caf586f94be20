"""An officer's request for more evidence: the case leaves the queue and comes back."""

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from contracts.workflow import (
    CaseStage,
    EvidenceRequest,
    EvidenceResubmittedSignal,
    SubmitRulingInput,
)
from tests.workflows.test_case_workflow import (
    StandInActivities,
    _claim,
    _rule_and_notify_insurers,
    _settle_claim,
    _start,
    _video,
    _wait_for_stage,
    _worker,
)
from tests.workflows.test_ruling_validator import _draft
from workflows.case.workflow import RemoteLiabilityCaseWorkflow

INSTRUCTIONS = "请补拍 B 车前保险杠和 A 车后保险杠的特写。"


async def _rejected_codes(handle: object, request: EvidenceRequest) -> list[str]:
    with pytest.raises(WorkflowUpdateFailedError) as error:
        await handle.execute_update(  # type: ignore[attr-defined]
            RemoteLiabilityCaseWorkflow.request_more_evidence, request
        )
    cause = error.value.cause
    assert isinstance(cause, ApplicationError)
    return [problem["code"] for problem in cause.details]


async def test_evidence_request_requeues_case(
    time_skipping: WorkflowEnvironment,
) -> None:
    activities = StandInActivities()
    worker, task_queue = _worker(time_skipping, activities)
    replacement = _video("cases/x/video-2", sha256="1" * 64)
    async with worker:
        handle = await _start(time_skipping, task_queue)
        await _wait_for_stage(handle, CaseStage.AWAITING_RULING)
        unclaimed = await _rejected_codes(
            handle, EvidenceRequest(officer_badge="330102", instructions=INSTRUCTIONS)
        )
        await _claim(handle)
        blank = await _rejected_codes(
            handle, EvidenceRequest(officer_badge="330102", instructions=" ")
        )

        await handle.execute_update(
            RemoteLiabilityCaseWorkflow.request_more_evidence,
            EvidenceRequest(officer_badge="330102", instructions=INSTRUCTIONS),
        )
        await _wait_for_stage(handle, CaseStage.AWAITING_RESUBMISSION)
        with pytest.raises(WorkflowUpdateFailedError) as ruling_error:
            await handle.execute_update(
                RemoteLiabilityCaseWorkflow.submit_ruling,
                SubmitRulingInput(ruling=_draft()),
            )
        await handle.signal(
            RemoteLiabilityCaseWorkflow.evidence_resubmitted,
            EvidenceResubmittedSignal(video=replacement),
        )
        await _wait_for_stage(handle, CaseStage.AWAITING_RULING)
        await _rule_and_notify_insurers(handle)
        for code in ("PICC", "PAIC"):
            await _settle_claim(handle, code)
        outcome = await handle.result()

    assert unclaimed == ["case_not_claimed"]
    assert blank == ["instructions_missing"]
    assert "is not waiting for a ruling" in str(ruling_error.value.cause)
    rejection = activities.rejections[0]
    assert rejection.findings[0].code == "officer_request"
    assert rejection.message_zh == INSTRUCTIONS
    assert len(activities.queued) == 2
    assert activities.queued[1].video == replacement
    assert activities.examined[-1] == "cases/x/video-2"
    assert outcome.outcome == "settled"
    steps = [entry.step for entry in outcome.timeline]
    assert steps.count("queued for officer") == 2
    assert "more evidence requested" in steps
