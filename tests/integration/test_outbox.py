"""Events survive a publisher killed after its write, and a consumer killed early."""

import asyncio
import uuid
from pathlib import Path
from uuid import UUID

import asyncpg
import pytest

from common.settings import PlatformSettings
from contracts.events import CaseRuled, InsurerNotification
from demo.client import PlatformClient
from tests.support.cases import submitted_case
from tests.support.insurers import case_records, ruled_event, send_event
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


async def test_ruling_redelivered_after_kill_notifies_once(
    platform: PlatformProcesses, settings: PlatformSettings
) -> None:
    prefix = platform.env["DINGZE_KAFKA_TOPIC_PREFIX"]
    event = ruled_event(uuid.uuid4(), ("CPIC", "TPIC"))
    ruled_topic = f"{prefix}{CaseRuled.topic}"
    await send_event(settings.kafka_bootstrap, ruled_topic, event)
    # Killed as soon as the effect is committed, before or just after the offset
    # commit; the same event is then delivered again either way.
    for _ in range(100):
        if await _outbox_rows(settings.database_url, "insurance", event.case_id):
            break
        await asyncio.sleep(0.05)
    platform.kill("insurance")
    platform.start("insurance", "services.insurance")
    platform.wait_healthy("insurance")
    await send_event(settings.kafka_bootstrap, ruled_topic, event)
    platform.wait_for_log("insurance", "ruling already handled")
    for _ in range(100):
        rows = await _outbox_rows(settings.database_url, "insurance", event.case_id)
        if rows and all(row["sent_at"] is not None for row in rows):
            break
        await asyncio.sleep(0.1)

    outbox = await _outbox_rows(settings.database_url, "insurance", event.case_id)
    by_insurer = {
        code: [
            InsurerNotification.model_validate_json(value)
            for value in await case_records(
                settings.kafka_bootstrap,
                f"{prefix}{InsurerNotification.topic_for(code)}",
                event.case_id,
            )
        ]
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
