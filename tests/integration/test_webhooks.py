"""Insurer webhooks: signed, retried until accepted, parked, and redelivered."""

import asyncio
import time
import uuid

import asyncpg
import pytest

from common.settings import PlatformSettings
from contracts.events import CaseRuled, InsurerNotification
from contracts.webhooks import EVENT_ID_HEADER, SIGNATURE_HEADER, verify
from tests.support.insurers import (
    new_insurer,
    ruled_event,
    run_registry,
    send_event,
    webhook_cert_paths,
)
from tests.support.platform import PlatformProcesses
from tests.support.webhook_receiver import WebhookReceiver, receiving

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def _wait_for(
    receiver: WebhookReceiver, status: int, wait_seconds: float = 30.0
) -> None:
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if status in receiver.statuses():
            return
        await asyncio.sleep(0.1)


async def _rule_for(
    platform: PlatformProcesses, settings: PlatformSettings, code: str
) -> CaseRuled:
    event = ruled_event(uuid.uuid4(), (code, "PICC"))
    topic = f"{platform.env['DINGZE_KAFKA_TOPIC_PREFIX']}{CaseRuled.topic}"
    await send_event(settings.kafka_bootstrap, topic, event)
    return event


async def test_webhook_failing_twice_arrives_once_signed(
    platform: PlatformProcesses, settings: PlatformSettings
) -> None:
    with receiving(2, *webhook_cert_paths(platform)) as receiver:
        code, secret = new_insurer(platform, receiver.url)

        event = await _rule_for(platform, settings, code)
        await _wait_for(receiver, 200)
        # Several scans of the dispatcher later, nothing more may arrive.
        await asyncio.sleep(1.5)

    requests = list(receiver.requests)
    now = int(time.time())
    assert [request.status for request in requests] == [500, 500, 200]
    assert len({request.headers[EVENT_ID_HEADER.lower()] for request in requests}) == 1
    for request in requests:
        signature = request.headers[SIGNATURE_HEADER.lower()]
        assert verify(secret, signature, request.body, now)
        assert not verify("another secret", signature, request.body, now)
        assert not verify(secret, signature, request.body + b" ", now)
    delivered = InsurerNotification.model_validate_json(requests[-1].body)
    assert delivered.case_id == event.case_id
    assert delivered.insurer_code == code
    assert [party.party_id for party in delivered.insured_parties] == ["A"]


async def _parked_id(database_url: str, code: str) -> int | None:
    connection = await asyncpg.connect(database_url)
    try:
        found = await connection.fetchval(
            "SELECT delivery_id FROM insurance.webhook_dead_letters"
            " WHERE insurer_code = $1",
            code,
        )
    finally:
        await connection.close()
    return None if found is None else int(found)


async def test_parked_webhook_is_redelivered_by_command(
    platform: PlatformProcesses, settings: PlatformSettings
) -> None:
    max_attempts = int(platform.env["DINGZE_INSURANCE_WEBHOOK_MAX_ATTEMPTS"])
    with receiving(max_attempts, *webhook_cert_paths(platform)) as receiver:
        code, _ = new_insurer(platform, receiver.url)
        await _rule_for(platform, settings, code)
        parked = None
        for _ in range(100):
            parked = await _parked_id(settings.database_url, code)
            if parked is not None:
                break
            await asyncio.sleep(0.2)
        listed = run_registry(platform, "dead-letters").stdout

        redelivered = run_registry(platform, "redeliver", "--insurer", code)
        await _wait_for(receiver, 200)
        await asyncio.sleep(1.0)

    assert parked is not None
    assert f"{parked}\t{code}" in listed
    assert f"redelivering [{parked}]" in redelivered.stdout
    assert receiver.statuses() == [500] * max_attempts + [200]
    assert await _parked_id(settings.database_url, code) is None


async def test_registry_rotates_secret_and_deactivates(
    platform: PlatformProcesses, settings: PlatformSettings
) -> None:
    with receiving(0, *webhook_cert_paths(platform)) as receiver:
        code, first_secret = new_insurer(platform, receiver.url)
        rotated = run_registry(platform, "rotate-secret", code)
        new_secret = rotated.stdout.rsplit(": ", 1)[1].strip()
        run_registry(platform, "deactivate", code)
        listing = run_registry(platform, "list").stdout
        duplicate = run_registry(platform, "add", code, "重复", check=False)
        plain_http = run_registry(
            platform, "set-webhook", code, "http://insurer.example/hook", check=False
        )

        await _rule_for(platform, settings, code)
        platform.wait_for_log("insurance", "ruling not sent to inactive insurers")
        await asyncio.sleep(1.0)

    assert new_secret != first_secret
    assert f"{code}\tinactive" in listing
    assert duplicate.returncode != 0
    assert "already registered" in duplicate.stderr
    assert plain_http.returncode != 0
    assert "invalid" in plain_http.stderr
    assert receiver.requests == []
