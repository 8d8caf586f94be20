"""Events survive a publisher killed after its write, and a consumer killed early."""

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from common.settings import PlatformSettings
from contracts.case import Location
from contracts.events import CaseRuled, InsurerNotification, PartySummary
from contracts.ruling import Ruling
from demo.client import PlatformClient, sample_ruling
from tests.support.cases import submitted_case
from tests.support.platform import PlatformProcesses

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


async def _fetch(database_url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(database_url)
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()


async def _outbox_rows(
    database_url: str, schema: str, case_id: UUID
) -> list[asyncpg.Record]:
    return await _fetch(
        database_url,
        f"SELECT topic, sent_at FROM {schema}.outbox WHERE message_key = $1",
        str(case_id),
    )


async def test_submission_survives_intake_killed_before_relay(
    client: PlatformClient,
    platform: PlatformProcesses,
    settings: PlatformSettings,
    video: Path,
) -> None:
    # Intake writes its outbox but relays nothing, then dies after the commit.
    platform.kill("intake")
    platform.start("intake", "services.intake", {"DINGZE_OUTBOX_RELAY": "false"})
    platform.wait_healthy("intake")
    try:
        case_id = await submitted_case(client, video)
        unsent = await _outbox_rows(settings.database_url, "intake", case_id)
    finally:
        platform.kill("intake")
        platform.start("intake", "services.intake")
        platform.wait_healthy("intake")

    case_file = await client.wait_until_queued(case_id)
    sent = await _outbox_rows(settings.database_url, "intake", case_id)

    assert [row["sent_at"] for row in unsent] == [None]
    assert case_file["case"]["case_id"] == str(case_id)
    assert len(sent) == 1
    assert sent[0]["sent_at"] is not None


def _ruled_event(case_id: UUID) -> CaseRuled:
    parties = [
        PartySummary(
            party_id=party_id,
            name=name,
            plate=plate,
            insurer_code=insurer,
            policy_number=f"POLICY-{party_id}",
        )
        for party_id, name, plate, insurer in (
            ("A", "张伟", "浙A12345", "CPIC"),
            ("B", "李娜", "浙B67890", "TPIC"),
        )
    ]
    return CaseRuled(
        case_id=case_id,
        accident_at=datetime.now(UTC),
        location=Location(latitude=30.27, longitude=120.15, address="杭州市文三路"),
        parties=parties,
        ruling=Ruling.model_validate(sample_ruling()),
    )


async def _notifications_on_topic(
    settings: PlatformSettings, topic: str, case_id: UUID
) -> list[InsurerNotification]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[InsurerNotification] = []
    try:
        batches = await consumer.getmany(timeout_ms=3000)
        while batches:
            for records in batches.values():
                found += [
                    InsurerNotification.model_validate_json(record.value)
                    for record in records
                    if record.key == str(case_id).encode()
                ]
            batches = await consumer.getmany(timeout_ms=1000)
    finally:
        await consumer.stop()
    return found


async def test_ruling_redelivered_after_kill_notifies_once(
    platform: PlatformProcesses, settings: PlatformSettings
) -> None:
    prefix = platform.env["DINGZE_KAFKA_TOPIC_PREFIX"]
    event = _ruled_event(uuid.uuid4())
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            f"{prefix}{CaseRuled.topic}",
            event.model_dump_json().encode(),
            key=str(event.case_id).encode(),
        )
        # Killed as soon as the effect is committed, before or just after the
        # offset commit; the same event is then delivered again either way.
        for _ in range(100):
            if await _outbox_rows(settings.database_url, "insurance", event.case_id):
                break
            await asyncio.sleep(0.05)
        platform.kill("insurance")
        platform.start("insurance", "services.insurance")
        platform.wait_healthy("insurance")
        await producer.send_and_wait(
            f"{prefix}{CaseRuled.topic}",
            event.model_dump_json().encode(),
            key=str(event.case_id).encode(),
        )
    finally:
        await producer.stop()
    platform.wait_for_log("insurance", "ruling already handled")
    for _ in range(100):
        rows = await _outbox_rows(settings.database_url, "insurance", event.case_id)
        if rows and all(row["sent_at"] is not None for row in rows):
            break
        await asyncio.sleep(0.1)

    outbox = await _outbox_rows(settings.database_url, "insurance", event.case_id)
    by_insurer = {
        code: await _notifications_on_topic(
            settings, f"{prefix}{InsurerNotification.topic_for(code)}", event.case_id
        )
        for code in ("CPIC", "TPIC")
    }

    assert len(outbox) == 2
    assert all(row["sent_at"] is not None for row in outbox)
    # A relay killed between its publish and its mark sends a row again with the
    # same event id, by which the insurer drops the copy: one event in effect.
    assert {
        code: len({notification.event_id for notification in found})
        for code, found in by_insurer.items()
    } == {"CPIC": 1, "TPIC": 1}
    assert [p.party_id for p in by_insurer["CPIC"][0].insured_parties] == ["A"]
    assert [p.party_id for p in by_insurer["TPIC"][0].insured_parties] == ["B"]
