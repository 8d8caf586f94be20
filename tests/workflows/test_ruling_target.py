"""The ruling target: an officer must rule within it, or supervisors are alerted.

Runs on Temporal's time-skipping test server, which moves the clock forward
instead of waiting.
"""

from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from contracts.workflow import CaseClaimed, CaseStage
from tests.workflows.test_case_workflow import (
    StandInActivities,
    _case_input,
    _rule_and_notify_insurers,
    _settle_claim,
    _wait_for_stage,
    _worker,
)
from workflows.case.workflow import RemoteLiabilityCaseWorkflow


async def test_overdue_ruling_escalates_case(
    time_skipping: WorkflowEnvironment,
) -> None:
    activities = StandInActivities()
    worker, task_queue = _worker(time_skipping, activities)
    request = _case_input()
    async with worker:
        handle = await time_skipping.client.start_workflow(
            RemoteLiabilityCaseWorkflow.run,
            request,
            id=f"case-{request.case.case_id}",
            task_queue=task_queue,
        )
        await _wait_for_stage(handle, CaseStage.AWAITING_RULING)
        await handle.signal(
            RemoteLiabilityCaseWorkflow.case_claimed,
            CaseClaimed(officer_badge="330102"),
        )

        await time_skipping.sleep(timedelta(minutes=29))
        before = list(activities.escalations)
        await time_skipping.sleep(timedelta(minutes=2))
        timeline = await handle.query(RemoteLiabilityCaseWorkflow.timeline)
        after = list(activities.escalations)
        await _rule_and_notify_insurers(handle)
        for code in ("PICC", "PAIC"):
            await _settle_claim(handle, code)
        outcome = await handle.result()

    assert before == []
    assert len(after) == 1
    assert after[0].target_minutes == 30
    assert after[0].claimed_by == "330102"
    assert after[0].case_id == request.case.case_id
    steps = [entry.step for entry in timeline.entries]
    assert "ruling overdue" in steps
    assert timeline.stage is CaseStage.AWAITING_RULING
    assert outcome.outcome == "settled"


async def test_ruling_target_comes_from_input(
    time_skipping: WorkflowEnvironment,
) -> None:
    activities = StandInActivities()
    worker, task_queue = _worker(time_skipping, activities)
    request = _case_input().model_copy(update={"ruling_target_minutes": 5})
    async with worker:
        handle = await time_skipping.client.start_workflow(
            RemoteLiabilityCaseWorkflow.run,
            request,
            id=f"case-{request.case.case_id}",
            task_queue=task_queue,
        )
        await _wait_for_stage(handle, CaseStage.AWAITING_RULING)

        await time_skipping.sleep(timedelta(minutes=6))
        escalations = list(activities.escalations)
        await handle.terminate()

    assert len(escalations) == 1
    assert escalations[0].target_minutes == 5
    assert escalations[0].claimed_by is None


async def test_ruling_in_time_is_not_escalated(
    time_skipping: WorkflowEnvironment,
) -> None:
    activities = StandInActivities()
    worker, task_queue = _worker(time_skipping, activities)
    request = _case_input()
    async with worker:
        handle = await time_skipping.client.start_workflow(
            RemoteLiabilityCaseWorkflow.run,
            request,
            id=f"case-{request.case.case_id}",
            task_queue=task_queue,
        )
        await _wait_for_stage(handle, CaseStage.AWAITING_RULING)
        await time_skipping.sleep(timedelta(minutes=20))
        await _rule_and_notify_insurers(handle)
        await time_skipping.sleep(timedelta(minutes=20))
        for code in ("PICC", "PAIC"):
            await _settle_claim(handle, code)
        outcome = await handle.result()

    assert activities.escalations == []
    assert "ruling overdue" not in [entry.step for entry in outcome.timeline]
