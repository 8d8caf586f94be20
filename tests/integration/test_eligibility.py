"""Cases that the simplified procedure does not allow go to on-scene handling."""

from pathlib import Path

import asyncpg
import pytest

from common.settings import PlatformSettings
from demo.client import PlatformClient, sample_case

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def test_ineligible_case_is_sent_on_scene(
    client: PlatformClient, settings: PlatformSettings, video: Path
) -> None:
    case = sample_case()
    case["eligibility"]["suspected_impaired_driving"] = True

    created = await client.http.post(
        f"{client.urls.intake}/cases", json=case, headers=client.intake_headers
    )
    case_id = created.json()["case_id"]
    shown = await client.intake_case(case_id)
    upload = await client.upload_video(case_id, video)
    submitted = await client.submit(case_id)

    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "on_scene"
    assert body["eligibility"]["eligible"] is False
    assert [reason["code"] for reason in body["eligibility"]["reasons"]] == [
        "impaired_driving"
    ]
    assert body["eligibility"]["message"] == (
        "This accident cannot be settled remotely: a driver is suspected of driving "
        "after drinking or taking drugs. Please stay at the scene and call 122; a "
        "traffic police officer will handle it there."
    )
    assert body["eligibility"]["message_zh"] == (
        "本事故不能远程处理：有驾驶人涉嫌酒后或吸毒后驾驶。"
        "请留在现场并拨打 122 报警，由交通民警到现场处理。"
    )
    assert shown.json()["status"] == "on_scene"
    assert shown.json()["on_scene"] == body["eligibility"]
    assert upload.status_code == 409
    assert upload.json()["detail"]["code"] == "case_sent_on_scene"
    assert upload.json()["detail"]["message_zh"] == body["eligibility"]["message_zh"]
    assert submitted.status_code == 409
    assert submitted.json()["detail"]["code"] == "case_sent_on_scene"
    connection = await asyncpg.connect(settings.database_url)
    try:
        row = await connection.fetchrow(
            "SELECT status, eligibility::text AS answers FROM intake.cases"
            " WHERE case_id = $1",
            created.json()["case_id"],
        )
    finally:
        await connection.close()
    assert row is not None
    assert row["status"] == "on_scene"
    assert '"suspected_impaired_driving": true' in row["answers"]


async def test_four_vehicles_are_sent_on_scene(client: PlatformClient) -> None:
    case = sample_case()
    third = dict(case["parties"][0], plate="浙A54321", phone="13811112222")
    fourth = dict(case["parties"][1], plate="浙B09876", phone="13933334444")
    case["parties"] += [third, fourth]

    created = await client.http.post(
        f"{client.urls.intake}/cases", json=case, headers=client.intake_headers
    )

    assert created.status_code == 201
    assert created.json()["status"] == "on_scene"
    reason = created.json()["eligibility"]["reasons"][0]
    assert reason["message"] == (
        "4 vehicles are involved and the remote process takes at most 3"
    )
    assert reason["message_zh"] == "涉及 4 辆车，远程处理最多 3 辆。"


async def test_eligibility_question_records_nothing(client: PlatformClient) -> None:
    case = sample_case()
    answers = dict(case["eligibility"], party_left_scene=True)

    eligible = await client.http.post(
        f"{client.urls.intake}/cases/eligibility",
        json={"answers": case["eligibility"], "vehicles": 2},
    )
    refused = await client.http.post(
        f"{client.urls.intake}/cases/eligibility",
        json={"answers": answers, "vehicles": 2},
    )

    assert eligible.status_code == 200
    assert eligible.json()["eligible"] is True
    assert refused.status_code == 200
    assert refused.json()["eligible"] is False
    assert refused.json()["reasons"][0]["message_zh"] == "有当事人已离开现场。"
