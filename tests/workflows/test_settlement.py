"""Paperless settlement in the case workflow: links for assessed claims, the
party's confirmation in the timeline, and refusals texted to the parties.
"""

import asyncio
from datetime import UTC, datetime

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from contracts.settlement import (
    ClaimStatus,
    MaskedPayee,
    SettlementConfirmedSignal,
    SettlementState,
)
from contracts.workflow import (
    CaseOutcome,
    CaseStage,
    ClaimAssessedSignal,
    ClaimOpenedSignal,
    ClaimRefusedSignal,
)
from tests.workflows.test_case_workflow import (
    StandInActivities,
    _rule_and_notify_insurers,
    _settle_claim,
    _start,
    _wait_for_stage,
    _worker,
)
from workflows.case.workflow import RemoteLiabilityCaseWorkflow

Handle = WorkflowHandle[RemoteLiabilityCaseWorkflow, CaseOutcome]
PAYEE = MaskedPayee(
    account_holder="李娜", bank="招商银行", account_number_masked="****0123"
)


async def _assess(
    handle: Handle, code: str, amount_cents: int, party_id: str | None = None
) -> None:
    await handle.signal(
        RemoteLiabilityCaseWorkflow.claim_opened,
        ClaimOpenedSignal(insurer_code=code, claim_number=f"{code}-1"),
    )
    await handle.signal(
        RemoteLiabilityCaseWorkflow.claim_assessed,
        ClaimAssessedSignal(
            insurer_code=code,
            claim_number=f"{code}-1",
            amount_cents=amount_cents,
            party_id=party_id,
        ),
    )


async def _wait_for_links(activities: StandInActivities, count: int) -> None:
    for _ in range(200):
        if len(activities.settlement_links) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {count} settlement links")


async def _settled_case(
    environment: WorkflowEnvironment, activities: StandInActivities
) -> tuple[Handle, SettlementState]:
    """Settle a case whose PAIC claim party B confirms; return it and its
    settlement state right after the confirmation.
    """
    worker, task_queue = _worker(environment, activities)
    async with worker:
        handle = await _start(environment, task_queue)
        await _wait_for_stage(handle, CaseStage.AWAITING_RULING)
        await _rule_and_notify_insurers(handle)
        await _wait_for_stage(handle, CaseStage.AWAITING_SETTLEMENT)
        await _assess(handle, "PICC", 0)
        await _assess(handle, "PAIC", 200_000)
        await _wait_for_links(activities, 1)
        await handle.signal(
            RemoteLiabilityCaseWorkflow.settlement_confirmed,
            SettlementConfirmedSignal(
                insurer_code="PAIC",
                claim_number="PAIC-1",
                party_id="B",
                amount_cents=200_000,
                payee=PAYEE,
                confirmed_at=datetime.now(UTC),
            ),
        )
        state = await handle.query(RemoteLiabilityCaseWorkflow.settlement)
        for code in ("PICC", "PAIC"):
            await _settle_claim(handle, code)
        await handle.result()
    return handle, state


async def test_assessed_claim_texts_its_party_once(
    dev_server: WorkflowEnvironment,
) -> None:
    activities = StandInActivities()

    handle, state = await _settled_case(dev_server, activities)
    outcome = await handle.result()

    assert outcome.outcome == "settled"
    assert len(activities.settlement_links) == 1
    link = activities.settlement_links[0]
    assert link.insurer_code == "PAIC"
    assert link.party.party_id == "B"
    assert link.claim_number == "PAIC-1"
    assert link.amount_cents == 200_000
    entries = {(entry.step, entry.detail) for entry in outcome.timeline}
    assert ("settlement link sent", "PAIC PAIC-1 to party B") in entries
    assert ("settlement link skipped", "PICC PICC-1: nothing to pay") in entries
    assert (
        "settlement confirmed",
        "PAIC PAIC-1 by party B, payee 招商银行 ****0123",
    ) in entries
    assert "claim_settled:A" in activities.sms
    claims = {claim.insurer_code: claim for claim in state.claims}
    assert claims["PAIC"].confirmed_payee == PAYEE
    assert claims["PICC"].confirmed_payee is None


async def test_settlement_query_shows_ruling_and_claims(
    dev_server: WorkflowEnvironment,
) -> None:
    activities = StandInActivities()
    worker, task_queue = _worker(dev_server, activities)
    async with worker:
        handle = await _start(dev_server, task_queue)
        await _wait_for_stage(handle, CaseStage.AWAITING_RULING)
        before = await handle.query(RemoteLiabilityCaseWorkflow.settlement)
        await _rule_and_notify_insurers(handle)
        await _wait_for_stage(handle, CaseStage.AWAITING_SETTLEMENT)
        await handle.signal(
            RemoteLiabilityCaseWorkflow.claim_opened,
            ClaimOpenedSignal(insurer_code="PICC", claim_number="PICC-1"),
        )
        await _assess(handle, "PAIC", 150_000)
        await _wait_for_links(activities, 1)
        state = await handle.query(RemoteLiabilityCaseWorkflow.settlement)
        await handle.terminate()

    assert before.ruled is False
    assert before.claims == []
    assert state.ruled is True
    assert state.closed is False
    assert state.document_number.startswith("DZ")
    assert [(s.party_id, s.share) for s in state.shares] == [("A", 0), ("B", 100)]
    claims = {claim.insurer_code: claim for claim in state.claims}
    assert claims["PICC"].status is ClaimStatus.OPENED
    assert claims["PICC"].party_id is None
    assert claims["PAIC"].status is ClaimStatus.ASSESSED
    assert claims["PAIC"].party_id == "B"
    assert claims["PAIC"].assessed_cents == 150_000
    assert claims["PAIC"].confirmed_payee is None


async def test_claim_naming_no_party_gets_no_link(
    dev_server: WorkflowEnvironment,
) -> None:
    activities = StandInActivities()
    worker, task_queue = _worker(dev_server, activities)
    async with worker:
        handle = await _start(dev_server, task_queue)
        await _wait_for_stage(handle, CaseStage.AWAITING_RULING)
        await _rule_and_notify_insurers(handle)
        await _wait_for_stage(handle, CaseStage.AWAITING_SETTLEMENT)
        await _assess(handle, "PAIC", 100_000, party_id="C")
        await _assess(handle, "PICC", 100_000, party_id="A")
        await _wait_for_links(activities, 1)
        timeline = await handle.query(RemoteLiabilityCaseWorkflow.timeline)
        await handle.terminate()

    assert [link.party.party_id for link in activities.settlement_links] == ["A"]
    entries = {(entry.step, entry.detail) for entry in timeline.entries}
    assert (
        "settlement link skipped",
        "PAIC PAIC-1: no party of the case named",
    ) in entries


async def test_refused_claim_texts_the_reason(
    dev_server: WorkflowEnvironment,
) -> None:
    activities = StandInActivities()
    worker, task_queue = _worker(dev_server, activities)
    async with worker:
        handle = await _start(dev_server, task_queue)
        await _wait_for_stage(handle, CaseStage.AWAITING_RULING)
        await _rule_and_notify_insurers(handle)
        await _settle_claim(handle, "PICC")
        await handle.signal(
            RemoteLiabilityCaseWorkflow.claim_refused,
            ClaimRefusedSignal(
                insurer_code="PAIC", claim_number="PAIC-1", reason="保单已失效。"
            ),
        )
        outcome = await handle.result()

    assert outcome.outcome == "claim_refused"
    assert sorted(name for name in activities.sms if name.startswith("claim_")) == [
        "claim_refused:A",
        "claim_refused:B",
    ]
    reason = activities.sms_variables["claim_refused:B"]["reason"]
    assert reason == "中国平安财产保险拒绝理赔，原因：保单已失效。"
    assert activities.published[-1] == "case.closed:claim_refused"
