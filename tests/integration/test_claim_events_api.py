"""Insurers post signed claim events over HTTP, and they reach the case path."""

import json
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from contracts.events import ClaimOpened
from contracts.webhooks import SIGNATURE_HEADER, sign
from tests.support.platform import ROOT, PlatformProcesses

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _new_insurer(platform: PlatformProcesses) -> tuple[str, str]:
    code = f"HT{uuid.uuid4().hex[:8].upper()}"
    added = subprocess.run(
        [sys.executable, "-m", "services.insurance.cli", "add", code, "测试保险"],
        cwd=ROOT,
        env=platform.env,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return code, added.stdout.rsplit(": ", 1)[1].strip()


def _body(event: ClaimOpened) -> bytes:
    return json.dumps(
        {"topic": event.topic, "event": event.model_dump(mode="json")}
    ).encode()


async def test_signed_claim_event_is_accepted_once(
    platform: PlatformProcesses,
) -> None:
    code, secret = _new_insurer(platform)
    event = ClaimOpened(case_id=uuid.uuid4(), insurer_code=code, claim_number="C-1")
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
    code, secret = _new_insurer(platform)
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
