"""Claim events reach a case only from its insurers, after the ruling, for their claim.

The case is insured by the insurers that the session's simulator leaves alone, so
the test plays a forger on the claim topics and then the real insurers.
"""

import json
import time
import uuid
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from temporalio.client import Client

from common.settings import PlatformSettings
from contracts.events import ClaimOpened, ClaimSettled, Event
from contracts.webhooks import SIGNATURE_HEADER, sign
from contracts.workflow import TIMELINE_QUERY, CaseTimeline, case_workflow_id
from demo.client import PlatformClient, sample_ruling
from tests.support.cases import case_outcome, claimed_case
from tests.support.insurers import (
    HAND_PLAYED_INSURERS,
    register_insurer,
    send_event,
    signed_insurer,
    wait_for_insurance_row,
)
from tests.support.platform import PlatformProcesses

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
WAIT_SECONDS = 60.0


async def _dead_letters(
    settings: PlatformSettings, prefix: str, event_ids: set[UUID]
) -> dict[UUID, str]:
    """Read the dead-letter topic until every event of ``event_ids`` is there.

    Returns each event's id with the error its header records.
    """
    consumer = AIOKafkaConsumer(
        f"{prefix}dead-letter",
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: dict[UUID, str] = {}
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while set(found) != event_ids and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    event_id = UUID(json.loads(record.value)["event_id"])
                    if event_id in event_ids:
                        found[event_id] = dict(record.headers)["error"].decode()
    finally:
        await consumer.stop()
    return found


async def _publish(settings: PlatformSettings, prefix: str, event: Event) -> None:
    await send_event(settings.kafka_bootstrap, f"{prefix}{event.topic}", event)


async def test_forged_claim_events_are_dead_lettered(
    client: PlatformClient,
    temporal: Client,
    platform: PlatformProcesses,
    settings: PlatformSettings,
    video: Path,
) -> None:
    prefix = platform.env["DINGZE_KAFKA_TOPIC_PREFIX"]
    x, y = (signed_insurer(platform, code) for code in HAND_PLAYED_INSURERS)
    case_id = await claimed_case(client, video, (x.code, y.code))
    ruled = await client.rule(case_id, sample_ruling())
    assert ruled.status_code == 200, ruled.text
    for insurer in (x, y):
        await wait_for_insurance_row(
            settings.database_url, "notifications", case_id, insurer.code
        )
    not_an_insurer_of_case = ClaimSettled(
        case_id=case_id, insurer_code="CPIC", claim_number="CPIC-1", amount_cents=1
    )
    opened = ClaimOpened(case_id=case_id, insurer_code=x.code, claim_number="X-1")
    other_claim = ClaimSettled(
        case_id=case_id, insurer_code=x.code, claim_number="X-FORGED", amount_cents=1
    )

    # A forger on the Kafka topics, between the insurer's opening and settlement.
    await _publish(settings, prefix, not_an_insurer_of_case)
    await _publish(settings, prefix, opened)
    await wait_for_insurance_row(settings.database_url, "claims", case_id, x.code)
    await _publish(settings, prefix, other_claim)
    dead = await _dead_letters(
        settings, prefix, {not_an_insurer_of_case.event_id, other_claim.event_id}
    )
    timeline = await temporal.get_workflow_handle(case_workflow_id(case_id)).query(
        TIMELINE_QUERY, result_type=CaseTimeline
    )

    # The insurers settle for real: A has no share, B the whole 2,000 CNY.
    await x.post(
        client.http,
        ClaimSettled(
            case_id=case_id, insurer_code=x.code, claim_number="X-1", amount_cents=0
        ),
    )
    await y.post(
        client.http,
        ClaimOpened(case_id=case_id, insurer_code=y.code, claim_number="Y-1"),
    )
    await wait_for_insurance_row(settings.database_url, "claims", case_id, y.code)
    await y.post(
        client.http,
        ClaimSettled(
            case_id=case_id,
            insurer_code=y.code,
            claim_number="Y-1",
            amount_cents=200_000,
        ),
    )
    outcome = await case_outcome(temporal, case_id)

    assert "ruling_not_delivered" in dead[not_an_insurer_of_case.event_id]
    assert "claim_number_mismatch" in dead[other_claim.event_id]
    steps = [entry.step for entry in timeline.entries]
    assert steps.count("claim opened") == 1
    assert steps.count("claim settled") == 0
    assert outcome.outcome == "settled"
    settled = [
        entry.detail for entry in outcome.timeline if entry.step == "claim settled"
    ]
    assert sorted(settled) == sorted([f"{x.code} 0.00 CNY", f"{y.code} 2000.00 CNY"])


async def test_claim_event_api_needs_delivered_ruling(
    platform: PlatformProcesses,
) -> None:
    code, secret = register_insurer(platform)
    event = ClaimSettled(
        case_id=uuid.uuid4(), insurer_code=code, claim_number="C-1", amount_cents=1
    )
    body = json.dumps(
        {"topic": event.topic, "event": event.model_dump(mode="json")}
    ).encode()

    async with httpx.AsyncClient(timeout=60) as http:
        response = await http.post(
            f"http://127.0.0.1:{platform.env['DINGZE_INSURANCE_PORT']}"
            f"/insurers/{code}/claim-events",
            content=body,
            headers={SIGNATURE_HEADER: sign(secret, int(time.time()), body)},
        )

    assert response.status_code == 409, response.text
    assert response.json()["detail"]["code"] == "ruling_not_delivered"
    assert response.json()["detail"]["message_zh"] == (
        "本公司未收到该案件的责任认定，不能提交理赔事件。"
    )
