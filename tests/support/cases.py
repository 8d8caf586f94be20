"""Steps that tests take a case through, over the platform's real APIs."""

import asyncio
from pathlib import Path
from uuid import UUID

from temporalio.client import Client

from contracts.workflow import CaseOutcome, case_workflow_id
from demo.client import PlatformClient, sample_case

OUTCOME_TIMEOUT_SECONDS = 120


async def submitted_case(
    client: PlatformClient, video: Path, insurers: tuple[str, str] = ("PICC", "PAIC")
) -> UUID:
    """Open the sample case, upload the video and submit it, checking each step.

    Party A is insured by the first of ``insurers``, party B by the second.
    """
    case_id = await client.open_case(sample_case(insurers))
    upload = await client.upload_video(case_id, video)
    assert upload.status_code == 200, upload.text
    submitted = await client.submit(case_id)
    assert submitted.status_code == 200, submitted.text
    return case_id


async def queued_case(
    client: PlatformClient, video: Path, insurers: tuple[str, str] = ("PICC", "PAIC")
) -> UUID:
    """Submit the sample case and wait until it is in the officer queue."""
    case_id = await submitted_case(client, video, insurers)
    await client.wait_until_queued(case_id)
    return case_id


async def claimed_case(
    client: PlatformClient, video: Path, insurers: tuple[str, str] = ("PICC", "PAIC")
) -> UUID:
    """Queue the sample case and claim it as the client's signed-in officer."""
    case_id = await queued_case(client, video, insurers)
    claimed = await client.claim(case_id)
    assert claimed.status_code == 200, claimed.text
    return case_id


async def case_outcome(temporal: Client, case_id: UUID) -> CaseOutcome:
    """Wait for the case workflow to finish and return its outcome."""
    handle = temporal.get_workflow_handle(
        case_workflow_id(case_id), result_type=CaseOutcome
    )
    outcome = await asyncio.wait_for(handle.result(), OUTCOME_TIMEOUT_SECONDS)
    assert isinstance(outcome, CaseOutcome)
    return outcome
