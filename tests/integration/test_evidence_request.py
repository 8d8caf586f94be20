"""An officer asks for more evidence on the real stack, and the case comes back."""

import asyncio
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from temporalio.client import Client

from demo.client import PlatformClient, sample_ruling
from evidence.sample_video import write_walkaround_video
from tests.support.cases import case_outcome, claimed_case

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
WAIT_SECONDS = 60.0
INSTRUCTIONS = "请补拍 B 车前保险杠和 A 车后保险杠的特写。"


async def _wait_for(
    client: PlatformClient, case_id: UUID, status: str
) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        case_file = await client.open_case_file(case_id)
        if case_file["status"] == status:
            return case_file
        await asyncio.sleep(0.2)
    raise TimeoutError(f"case {case_id} did not reach {status} in {WAIT_SECONDS} s")


async def _texts(client: PlatformClient, case_id: UUID) -> list[dict[str, Any]]:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = [
            message
            for message in await client.messages(case_id)
            if message["template"] == "evidence_resubmission_requested"
        ]
        if len(found) >= 2:
            return found
        await asyncio.sleep(0.2)
    raise TimeoutError(f"the parties of case {case_id} got no request to film")


async def test_evidence_request_returns_case_to_queue(
    client: PlatformClient, temporal: Client, video: Path, tmp_path: Path
) -> None:
    case_id = await claimed_case(client, video)

    requested = await client.request_evidence(case_id, INSTRUCTIONS)
    waiting = await client.open_case_file(case_id)
    queue = {item["case_id"] for item in await client.queue()}
    texts = await _texts(client, case_id)
    replacement = write_walkaround_video(tmp_path / "closer.mp4", seconds=9)
    uploaded = await client.upload_video(case_id, replacement)
    requeued = await _wait_for(client, case_id, "queued")
    claimed = await client.claim(case_id)
    ruled = await client.rule(case_id, sample_ruling())
    outcome = await case_outcome(temporal, case_id)

    assert requested.status_code == 202, requested.text
    assert waiting["status"] == "awaiting_evidence"
    assert str(case_id) not in queue
    assert {text["party_id"] for text in texts} == {"A", "B"}
    assert all(INSTRUCTIONS in text["body"] for text in texts)
    assert all("/phone/#t=" not in text["body"] for text in texts)
    assert uploaded.status_code == 200, uploaded.text
    assert requeued["case"]["video"]["sha256"] == uploaded.json()["sha256"]
    assert requeued["claimed_by"] is None
    assert claimed.status_code == 200
    assert ruled.status_code == 200, ruled.text
    assert outcome.outcome == "settled"
    steps = [entry.step for entry in outcome.timeline]
    assert "more evidence requested" in steps
    assert steps.count("queued for officer") == 2
