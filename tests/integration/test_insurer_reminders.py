"""Reminders and escalations reach each insurer's webhook once, and no other's."""

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from common.settings import PlatformSettings
from contracts.events import InsurerReminder, SettlementEscalated
from contracts.webhooks import EVENT_ID_HEADER, SIGNATURE_HEADER, TOPIC_HEADER, verify
from tests.integration.test_webhooks import _parked_id, _wait_for
from tests.support.insurers import (
    case_records,
    new_insurer,
    run_registry,
    send_event,
    webhook_cert_paths,
)
from tests.support.platform import PlatformProcesses
from tests.support.webhook_receiver import receiving

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _reminder(case_id: uuid.UUID, code: str) -> InsurerReminder:
    notified_at = datetime.now(UTC) - timedelta(days=2)
    return InsurerReminder(
        case_id=case_id,
        trace_id=uuid.uuid4().hex,
        insurer_code=code,
        notified_at=notified_at,
        escalates_at=notified_at + timedelta(days=5),
    )


async def _publish(
    platform: PlatformProcesses,
    settings: PlatformSettings,
    topic: str,
    event: InsurerReminder | SettlementEscalated,
) -> None:
    prefix = platform.env["DINGZE_KAFKA_TOPIC_PREFIX"]
    await send_event(settings.kafka_bootstrap, f"{prefix}{topic}", event)


def _wait_for_case_log(
    platform: PlatformProcesses, text: str, case_id: uuid.UUID
) -> None:
    """Wait, at most 30 s, until insurance logs ``text`` for the case."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        lines = platform.log_text("insurance").splitlines()
        if any(text in line and str(case_id) in line for line in lines):
            return
        time.sleep(0.2)
    raise TimeoutError(f"insurance did not log {text!r} for case {case_id}")


async def test_reminder_reaches_own_webhook_once(
    platform: PlatformProcesses, settings: PlatformSettings
) -> None:
    with (
        receiving(2, *webhook_cert_paths(platform)) as reminded,
        receiving(0, *webhook_cert_paths(platform)) as other,
    ):
        code, secret = new_insurer(platform, reminded.url)
        other_code, _ = new_insurer(platform, other.url)
        reminder = _reminder(uuid.uuid4(), code)

        await _publish(platform, settings, InsurerReminder.request_topic, reminder)
        await _publish(platform, settings, InsurerReminder.request_topic, reminder)
        _wait_for_case_log(platform, "event already handled", reminder.case_id)
        await _wait_for(reminded, 200)
        # Several scans of the dispatcher later, nothing more may arrive.
        await asyncio.sleep(1.5)

    requests = list(reminded.requests)
    now = int(time.time())
    assert [request.status for request in requests] == [500, 500, 200]
    assert {r.headers[EVENT_ID_HEADER.lower()] for r in requests} == {
        str(reminder.event_id)
    }
    assert requests[-1].headers[TOPIC_HEADER.lower()] == (
        InsurerReminder.topic_for(code)
    )
    assert verify(
        secret, requests[-1].headers[SIGNATURE_HEADER.lower()], requests[-1].body, now
    )
    assert InsurerReminder.model_validate_json(requests[-1].body) == reminder
    assert other_code != code
    assert other.requests == []
    prefix = platform.env["DINGZE_KAFKA_TOPIC_PREFIX"]
    on_kafka = await case_records(
        settings.kafka_bootstrap,
        f"{prefix}{InsurerReminder.topic_for(code)}",
        reminder.case_id,
    )
    assert [InsurerReminder.model_validate_json(v) for v in on_kafka] == [reminder]


async def test_escalation_reaches_each_insurer_alone(
    platform: PlatformProcesses, settings: PlatformSettings
) -> None:
    with (
        receiving(0, *webhook_cert_paths(platform)) as first,
        receiving(1, *webhook_cert_paths(platform)) as second,
    ):
        first_code, _ = new_insurer(platform, first.url)
        second_code, second_secret = new_insurer(platform, second.url)
        escalation = SettlementEscalated(
            case_id=uuid.uuid4(),
            trace_id=uuid.uuid4().hex,
            insurer_codes=[first_code, second_code, "PICC"],
            notified_at=datetime.now(UTC) - timedelta(days=5),
        )

        await _publish(platform, settings, SettlementEscalated.topic, escalation)
        await _publish(platform, settings, SettlementEscalated.topic, escalation)
        _wait_for_case_log(platform, "event already handled", escalation.case_id)
        await _wait_for(first, 200)
        await _wait_for(second, 200)
        await asyncio.sleep(1.5)

    assert first.statuses() == [200]
    assert second.statuses() == [500, 200]
    received = {
        code: SettlementEscalated.model_validate_json(receiver.requests[-1].body)
        for code, receiver in ((first_code, first), (second_code, second))
    }
    for code, copy in received.items():
        assert copy.insurer_codes == [code]
        assert copy.case_id == escalation.case_id
        assert copy.event_id != escalation.event_id
    assert received[first_code].event_id != received[second_code].event_id
    assert second.requests[-1].headers[TOPIC_HEADER.lower()] == (
        SettlementEscalated.insurer_topic_for(second_code)
    )
    assert verify(
        second_secret,
        second.requests[-1].headers[SIGNATURE_HEADER.lower()],
        second.requests[-1].body,
        int(time.time()),
    )
    prefix = platform.env["DINGZE_KAFKA_TOPIC_PREFIX"]
    on_kafka = await case_records(
        settings.kafka_bootstrap,
        f"{prefix}{SettlementEscalated.insurer_topic_for('PICC')}",
        escalation.case_id,
    )
    copies = [SettlementEscalated.model_validate_json(v) for v in on_kafka]
    assert [copy.insurer_codes for copy in copies] == [["PICC"]]


async def test_parked_reminder_is_redelivered(
    platform: PlatformProcesses, settings: PlatformSettings
) -> None:
    max_attempts = int(platform.env["DINGZE_INSURANCE_WEBHOOK_MAX_ATTEMPTS"])
    with receiving(max_attempts, *webhook_cert_paths(platform)) as receiver:
        code, _ = new_insurer(platform, receiver.url)
        reminder = _reminder(uuid.uuid4(), code)
        await _publish(platform, settings, InsurerReminder.request_topic, reminder)
        parked = None
        for _ in range(100):
            parked = await _parked_id(settings.database_url, code)
            if parked is not None:
                break
            await asyncio.sleep(0.2)

        redelivered = run_registry(platform, "redeliver", "--insurer", code)
        await _wait_for(receiver, 200)
        await asyncio.sleep(1.0)

    assert parked is not None
    assert f"redelivering [{parked}]" in redelivered.stdout
    assert receiver.statuses() == [500] * max_attempts + [200]
    event_ids = {r.headers[EVENT_ID_HEADER.lower()] for r in receiver.requests}
    assert event_ids == {str(reminder.event_id)}
    assert await _parked_id(settings.database_url, code) is None
