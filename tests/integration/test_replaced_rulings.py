"""A ruling replaced after reconsideration reaches the case's insurers once, on
their topics and signed webhooks, minimised like the first ruling.
"""

import asyncio
import json
import time
import uuid

import pytest

from common.kafka_retry import DEAD_LETTER_TOPIC
from common.settings import PlatformSettings
from contracts.events import CaseReconsidered, CaseRuled, InsurerNotification
from contracts.ruling import Ruling
from contracts.webhooks import SIGNATURE_HEADER, verify
from demo.client import sample_ruling
from tests.support.insurers import (
    case_records,
    new_insurer,
    ruled_event,
    send_event,
    webhook_cert_paths,
)
from tests.support.platform import PlatformProcesses
from tests.support.webhook_receiver import WebhookReceiver, receiving

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

FIRST_DOCUMENT = "DZ20261204-0A0B0C0D"
# Several scans of the webhook dispatcher and the outbox relay, after which a
# second delivery would have arrived.
SETTLE_SECONDS = 2.0


def _reconsidered(ruled: CaseRuled, outcome: str = "replaced") -> CaseReconsidered:
    liabilities = [
        {"party_id": "A", "category": "secondary", "share": 30},
        {"party_id": "B", "category": "primary", "share": 70},
    ]
    ruling = {**sample_ruling(), "officer_id": "330199"}
    if outcome == "replaced":
        ruling["liabilities"] = liabilities
    return CaseReconsidered(
        case_id=ruled.case_id,
        outcome=outcome,
        first_document_number=FIRST_DOCUMENT,
        document_number=f"{FIRST_DOCUMENT}-F",
        ruling=Ruling.model_validate(ruling),
        accident_at=ruled.accident_at,
        location=ruled.location,
        parties=ruled.parties,
    )


def _bodies_for(receiver: WebhookReceiver, case_id: uuid.UUID) -> list[bytes]:
    return [
        request.body
        for request in list(receiver.requests)
        if json.loads(request.body)["case_id"] == str(case_id)
    ]


async def _wait_for_bodies(
    receiver: WebhookReceiver, case_id: uuid.UUID, count: int
) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if len(_bodies_for(receiver, case_id)) >= count:
            return
        await asyncio.sleep(0.1)


async def _records(
    settings: PlatformSettings, topic: str, case_id: uuid.UUID, count: int
) -> list[bytes]:
    """Read the case's records on a topic once at least ``count`` are there."""
    records: list[bytes] = []
    for _ in range(60):
        records = await case_records(settings.kafka_bootstrap, topic, case_id)
        if len(records) >= count:
            break
        await asyncio.sleep(0.5)
    return records


async def test_replaced_ruling_reaches_insurer_once(
    platform: PlatformProcesses, settings: PlatformSettings
) -> None:
    prefix = platform.env["DINGZE_KAFKA_TOPIC_PREFIX"]
    bootstrap = settings.kafka_bootstrap
    with receiving(0, *webhook_cert_paths(platform)) as receiver:
        code, secret = new_insurer(platform, receiver.url)
        ruled = ruled_event(uuid.uuid4(), (code, "PICC"))
        await send_event(bootstrap, f"{prefix}{CaseRuled.topic}", ruled)
        await _wait_for_bodies(receiver, ruled.case_id, 1)

        # The event arrives three times: once, redelivered with its id, and again
        # under a new id, as a second publication of the same decision would.
        reconsidered = _reconsidered(ruled)
        topic = f"{prefix}{CaseReconsidered.topic}"
        await send_event(bootstrap, topic, reconsidered)
        await send_event(bootstrap, topic, reconsidered)
        again = reconsidered.model_copy(update={"event_id": uuid.uuid4()})
        await send_event(bootstrap, topic, again)
        await _wait_for_bodies(receiver, ruled.case_id, 2)
        await asyncio.sleep(SETTLE_SECONDS)

    bodies = _bodies_for(receiver, ruled.case_id)
    requests = [r for r in receiver.requests if r.body in bodies]
    own_topic = f"{prefix}{InsurerNotification.topic_for(code)}"
    on_own_topic = await _records(settings, own_topic, ruled.case_id, 2)
    picc_topic = f"{prefix}{InsurerNotification.topic_for('PICC')}"
    on_picc_topic = await _records(settings, picc_topic, ruled.case_id, 2)
    now = int(time.time())

    assert len(bodies) == 2
    first = InsurerNotification.model_validate_json(bodies[0])
    replacement = InsurerNotification.model_validate_json(bodies[1])
    assert first.replaces_document_number == ""
    assert replacement.replaces_document_number == FIRST_DOCUMENT
    assert replacement.document_number == f"{FIRST_DOCUMENT}-F"
    assert replacement.ruling.share_of("A") == 30
    assert replacement.ruling.share_of("B") == 70
    assert replacement.event_id != first.event_id
    # The same minimisation as the first ruling: B is masked for A's insurer.
    assert [p.party_id for p in replacement.insured_parties] == ["A"]
    assert replacement.other_parties[0].plate_masked == "浙B***90"
    assert "李娜" not in bodies[1].decode()
    assert "ADZH2026330200005678" not in bodies[1].decode()
    for request in requests:
        assert verify(
            secret, request.headers[SIGNATURE_HEADER.lower()], request.body, now
        )
    # Kafka carries the first ruling and one replacement, to each insurer.
    own_kinds = sorted(json.loads(r)["replaces_document_number"] for r in on_own_topic)
    assert own_kinds == ["", FIRST_DOCUMENT]
    picc = [InsurerNotification.model_validate_json(r) for r in on_picc_topic]
    assert sorted(n.replaces_document_number for n in picc) == ["", FIRST_DOCUMENT]
    picc_replacement = next(n for n in picc if n.replaces_document_number)
    assert [p.party_id for p in picc_replacement.insured_parties] == ["B"]
    assert "张伟" not in picc_replacement.model_dump_json()


async def test_confirmed_ruling_not_resent(
    platform: PlatformProcesses, settings: PlatformSettings
) -> None:
    prefix = platform.env["DINGZE_KAFKA_TOPIC_PREFIX"]
    bootstrap = settings.kafka_bootstrap
    with receiving(0, *webhook_cert_paths(platform)) as receiver:
        code, _ = new_insurer(platform, receiver.url)
        ruled = ruled_event(uuid.uuid4(), (code, "PICC"))
        await send_event(bootstrap, f"{prefix}{CaseRuled.topic}", ruled)
        await _wait_for_bodies(receiver, ruled.case_id, 1)

        confirmed = _reconsidered(ruled, outcome="confirmed")
        await send_event(bootstrap, f"{prefix}{CaseReconsidered.topic}", confirmed)
        # A replacement of another case sent after it shows the handler got past it.
        other = ruled_event(uuid.uuid4(), (code, "PICC"))
        await send_event(bootstrap, f"{prefix}{CaseRuled.topic}", other)
        await send_event(
            bootstrap, f"{prefix}{CaseReconsidered.topic}", _reconsidered(other)
        )
        await _wait_for_bodies(receiver, other.case_id, 2)
        await asyncio.sleep(SETTLE_SECONDS)

    assert len(_bodies_for(receiver, ruled.case_id)) == 1
    assert len(_bodies_for(receiver, other.case_id)) == 2


async def test_reconsidered_without_parties_dead_lettered(
    platform: PlatformProcesses, settings: PlatformSettings
) -> None:
    prefix = platform.env["DINGZE_KAFKA_TOPIC_PREFIX"]
    ruled = ruled_event(uuid.uuid4(), ("CCIC", "PICC"))
    incomplete = _reconsidered(ruled).model_copy(
        update={"parties": [], "accident_at": None, "location": None}
    )

    await send_event(
        settings.kafka_bootstrap, f"{prefix}{CaseReconsidered.topic}", incomplete
    )
    parked = await _records(settings, f"{prefix}{DEAD_LETTER_TOPIC}", ruled.case_id, 1)
    notified = await case_records(
        settings.kafka_bootstrap,
        f"{prefix}{InsurerNotification.topic_for('CCIC')}",
        ruled.case_id,
    )

    assert len(parked) == 1
    assert json.loads(parked[0])["event_id"] == str(incomplete.event_id)
    assert notified == []
