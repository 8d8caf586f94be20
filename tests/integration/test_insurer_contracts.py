"""Insurers read the contracts from insurance and get only their own parties."""

import asyncio
import json
import uuid

import httpx
import pytest
from jsonschema import Draft202012Validator

from common.settings import PlatformSettings
from contracts.events import CaseRuled, InsurerNotification
from tests.support.insurers import case_records, ruled_event, send_event
from tests.support.platform import PlatformProcesses

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _insurance_url(platform: PlatformProcesses) -> str:
    return f"http://127.0.0.1:{platform.env['DINGZE_INSURANCE_PORT']}"


async def test_insurance_serves_asyncapi_and_schemas(
    platform: PlatformProcesses,
) -> None:
    async with httpx.AsyncClient(base_url=_insurance_url(platform)) as http:
        asyncapi = await http.get("/contracts/asyncapi.json")
        listing = await http.get("/contracts/schemas")
        schema = await http.get("/contracts/schemas/InsurerNotification.v1.json")
        missing = await http.get("/contracts/schemas/Nothing.v9.json")

    assert asyncapi.status_code == 200
    assert asyncapi.json()["asyncapi"] == "3.0.0"
    files = {item["url"].rsplit("/", 1)[1] for item in listing.json()}
    assert {
        "InsurerNotification.v1.json",
        "InsurerNotification.v2.json",
        "InsurerNotification.v3.json",
    } <= files
    assert schema.json()["x-topic"] == InsurerNotification.topic
    assert missing.status_code == 404
    assert missing.json()["detail"]["code"] == "schema_not_found"


async def _records_for(
    settings: PlatformSettings, prefix: str, insurer: str, case_id: uuid.UUID
) -> list[bytes]:
    topic = f"{prefix}{InsurerNotification.topic_for(insurer)}"
    for _ in range(30):
        records = await case_records(settings.kafka_bootstrap, topic, case_id)
        if records:
            return records
        await asyncio.sleep(0.5)
    return []


async def test_insurer_gets_own_parties_and_old_reader_copes(
    platform: PlatformProcesses, settings: PlatformSettings
) -> None:
    prefix = platform.env["DINGZE_KAFKA_TOPIC_PREFIX"]
    event = ruled_event(uuid.uuid4(), ("CCIC", "SSAI"))
    async with httpx.AsyncClient(base_url=_insurance_url(platform)) as http:
        v1 = (await http.get("/contracts/schemas/InsurerNotification.v1.json")).json()

    await send_event(settings.kafka_bootstrap, f"{prefix}{CaseRuled.topic}", event)
    to_a = await _records_for(settings, prefix, "CCIC", event.case_id)
    to_b = await _records_for(settings, prefix, "SSAI", event.case_id)

    assert to_a
    assert to_b
    for_a = json.loads(to_a[0])
    # A consumer written against version 1 validates version 3 and finds its fields.
    assert for_a["schema_version"] == 3
    assert list(Draft202012Validator(v1).iter_errors(for_a)) == []
    assert [p["party_id"] for p in for_a["insured_parties"]] == ["A"]
    # Insurer A gets B masked: no name, full plate or policy number of B.
    raw_a = to_a[0].decode()
    assert "李娜" not in raw_a
    assert "浙B67890" not in raw_a
    assert "ADZH2026330200005678" not in raw_a
    assert for_a["other_parties"][0]["plate_masked"] == "浙B***90"
    raw_b = to_b[0].decode()
    assert "张伟" not in raw_b
    assert "PDAA2026330100001234" not in raw_b
    assert "ADZH2026330200005678" in raw_b
