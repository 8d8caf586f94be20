"""The ruling update's validator: each reason an officer's ruling is rejected."""

from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from contracts.ruling import RulingDraft
from contracts.workflow import CaseClaimed, CaseStage, SubmitRulingInput
from demo.client import sample_ruling
from tests.workflows.test_case_workflow import (
    StandInActivities,
    _start,
    _wait_for_stage,
    _worker,
)
from workflows.case.workflow import RemoteLiabilityCaseWorkflow


def _draft(**changes: Any) -> RulingDraft:
    return RulingDraft.model_validate({**sample_ruling(), **changes})


def _liabilities(*items: tuple[str, str, int]) -> list[dict[str, Any]]:
    return [
        {"party_id": party, "category": category, "share": share}
        for party, category, share in items
    ]


REJECTED = {
    "wrong-officer": (_draft(officer_id="330199"), "wrong_officer"),
    "shares-not-100": (
        _draft(liabilities=_liabilities(("A", "primary", 60), ("B", "secondary", 30))),
        "shares_not_100",
    ),
    "full-not-100": (
        _draft(liabilities=_liabilities(("A", "full", 90), ("B", "secondary", 10))),
        "full_needs_100",
    ),
    "none-not-0": (
        _draft(liabilities=_liabilities(("A", "none", 10), ("B", "primary", 90))),
        "none_needs_0",
    ),
    "equal-shares-differ": (
        _draft(liabilities=_liabilities(("A", "equal", 60), ("B", "equal", 40))),
        "equal_shares_differ",
    ),
    "facts-missing": (_draft(facts=""), "facts_missing"),
    "rule-missing": (_draft(rule_applied=""), "rule_missing"),
    "unknown-party": (
        _draft(liabilities=_liabilities(("A", "none", 0), ("C", "full", 100))),
        "parties_mismatch",
    ),
}


async def _problem_codes(handle: Any, draft: RulingDraft) -> list[str]:
    with pytest.raises(WorkflowUpdateFailedError) as error:
        await handle.execute_update(
            RemoteLiabilityCaseWorkflow.submit_ruling, SubmitRulingInput(ruling=draft)
        )
    cause = error.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "RulingRejected"
    return [problem["code"] for problem in cause.details]


async def test_ruling_validator_names_each_problem(
    dev_server: WorkflowEnvironment,
) -> None:
    worker, task_queue = _worker(dev_server, StandInActivities())
    async with worker:
        handle = await _start(dev_server, task_queue)
        await _wait_for_stage(handle, CaseStage.AWAITING_RULING)

        unclaimed = await _problem_codes(handle, _draft())
        await handle.signal(
            RemoteLiabilityCaseWorkflow.case_claimed,
            CaseClaimed(officer_badge="330102"),
        )
        found = {
            name: await _problem_codes(handle, draft)
            for name, (draft, _) in REJECTED.items()
        }
        accepted = await handle.execute_update(
            RemoteLiabilityCaseWorkflow.submit_ruling,
            SubmitRulingInput(ruling=_draft()),
        )
        timeline = await handle.query(RemoteLiabilityCaseWorkflow.timeline)
        await handle.terminate()

    assert unclaimed == ["case_not_claimed"]
    for name, (_, code) in REJECTED.items():
        assert code in found[name], f"{name}: got {found[name]}"
    assert accepted.ruling is not None
    assert accepted.ruling.officer_id == "330102"
    steps = [entry.step for entry in timeline.entries]
    assert steps.count("ruling accepted") == 1
    assert "case claimed" in steps


async def test_released_claim_rejects_ruling(dev_server: WorkflowEnvironment) -> None:
    worker, task_queue = _worker(dev_server, StandInActivities())
    async with worker:
        handle = await _start(dev_server, task_queue)
        await _wait_for_stage(handle, CaseStage.AWAITING_RULING)
        await handle.signal(
            RemoteLiabilityCaseWorkflow.case_claimed,
            CaseClaimed(officer_badge="330102"),
        )
        await handle.signal(
            RemoteLiabilityCaseWorkflow.case_claimed,
            CaseClaimed(officer_badge="330199"),
        )

        codes = await _problem_codes(handle, _draft())
        await handle.terminate()

    assert codes == ["wrong_officer"]
