"""Insurers post signed claim events over HTTP, and they reach the case path."""

import json
import time
import uuid

import httpx
import pytest

from common.settings import PlatformSettings
from contracts.events import CaseRuled, ClaimOpened
from contracts.webhooks import SIGNATURE_HEADER, sign
from tests.support.insurers import (
    register_insurer,
    ruled_event,
    send_event,
    wait_for_insurance_row,
)
from tests.support.platform import PlatformProcesses

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _body(event: ClaimOpened) -> bytes:
    return json.dumps(
        {"topic": event.topic, "event": event.model_dump(mode="json")}
    ).encode()


async def test_signed_claim_event_is_accepted_once(
    platform: PlatformProcesses, settings: PlatformSettings
) -> None:
    code, secret = register_insurer(platform)
    ruled = ruled_event(uuid.uuid4(), (code, "PICC"))
    await send_event(
        settings.kafka_bootstrap,
        platform.env["DINGZE_KAFKA_TOPIC_PREFIX"] + CaseRuled.topic,
        ruled,
    )
    await wait_for_insurance_row(
        settings.database_url, "notifications", ruled.case_id, code
    )
    event = ClaimOpened(case_id=ruled.case_id, insurer_code=code, claim_number="C-1")
    body = _body(event)
    url = (
        f"http://127.0.0.1:{platform.env['DINGZE_INSURANCE_PORT']}"
        f"/insurers/{code}/claim-events"
    )
    signed = {
        SIGNATURE_HEADER: sign(secret, int(time.time()), body),
        "content-type": "application/json",
    }

    async with httpx.AsyncClient() as http:
        first = await http.post(url, content=body, headers=signed)
        again = await http.post(url, content=body, headers=signed)
        unsigned = await http.post(url, content=body)
        wrong_key = await http.post(
            url,
            content=body,
            headers={SIGNATURE_HEADER: sign("wrong", int(time.time()), body)},
        )
    platform.wait_for_log("insurance", str(event.case_id))

    assert first.status_code == 202, first.text
    assert first.json() == {"event_id": str(event.event_id), "duplicate": False}
    assert again.json()["duplicate"] is True
    assert unsigned.status_code == 401
    assert wrong_key.status_code == 401
    assert unsigned.json()["detail"]["code"] == "signature_invalid"


async def test_claim_event_of_another_insurer_is_forbidden(
    platform: PlatformProcesses,
) -> None:
    code, secret = register_insurer(platform)
    event = ClaimOpened(case_id=uuid.uuid4(), insurer_code="PICC", claim_number="C-2")
    body = _body(event)

    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"http://127.0.0.1:{platform.env['DINGZE_INSURANCE_PORT']}"
            f"/insurers/{code}/claim-events",
            content=body,
            headers={SIGNATURE_HEADER: sign(secret, int(time.time()), body)},
        )

    assert response.status_code == 403
    assert response.json()["detail"]["code"] == "insurer_mismatch"
