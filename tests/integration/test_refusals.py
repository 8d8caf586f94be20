"""What the platform refuses, and the messages it gives."""

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from temporalio.client import Client

from contracts.workflow import case_workflow_id
from demo.client import PlatformClient, sample_case, sample_ruling
from tests.support.cases import claimed_case, queued_case

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


@pytest.mark.parametrize(
    ("name", "cut", "code"),
    [
        ("empty", lambda data: b"", "video_empty"),
        ("text", lambda data: "不是视频".encode() * 100, "not_a_video"),
        ("truncated", lambda data: data[: len(data) // 2], "video_truncated"),
    ],
    ids=["empty", "not-a-video", "truncated"],
)
async def test_bad_video_is_rejected_with_reason(
    client: PlatformClient,
    video: Path,
    tmp_path: Path,
    name: str,
    cut: Callable[[bytes], bytes],
    code: str,
) -> None:
    case_id = await client.open_case(sample_case())
    bad = tmp_path / f"{name}.mp4"
    bad.write_bytes(cut(video.read_bytes()))

    response = await client.upload_video(case_id, bad)
    submitted = await client.submit(case_id)

    assert response.status_code == 422
    assert response.json()["detail"]["code"] == code
    assert response.json()["detail"]["message_zh"]
    assert submitted.status_code == 409
    assert submitted.json()["detail"]["code"] == "video_missing"


async def test_ruling_not_adding_up_is_rejected(
    client: PlatformClient, video: Path
) -> None:
    case_id = await claimed_case(client, video)
    ruling = sample_ruling()
    ruling["liabilities"] = [
        {"party_id": "A", "category": "secondary", "share": 30},
        {"party_id": "B", "category": "primary", "share": 60},
    ]

    response = await client.rule(case_id, ruling)

    assert response.status_code == 422
    assert "must add up to 100, got 90" in response.text
    codes = [item["code"] for item in response.json()["detail"]["problems"]]
    assert codes == ["shares_not_100"]


async def test_concurrent_claims_have_one_winner(
    client: PlatformClient, other_officer: PlatformClient, video: Path
) -> None:
    case_id = await queued_case(client, video)

    responses = await asyncio.gather(
        client.claim(case_id), other_officer.claim(case_id)
    )
    winner = client if responses[0].status_code == 200 else other_officer
    ruled = await winner.rule(case_id, {**sample_ruling(), "officer_id": ""})
    case_file = await client.wait_until_queued(case_id)

    codes = sorted(response.status_code for response in responses)
    loser = next(response for response in responses if response.status_code == 409)
    assert codes == [200, 409]
    assert loser.json()["detail"]["code"] == "case_claimed_by_other"
    assert ruled.status_code == 200, ruled.text
    badge = next(r for r in responses if r.status_code == 200).json()["claimed_by"]
    assert case_file["status"] == "ruled"
    assert case_file["ruling"]["officer_id"] == badge


async def test_ruling_with_control_character_is_rejected(
    client: PlatformClient,
) -> None:
    case_id = await client.open_case(sample_case())
    ruling = sample_ruling()
    ruling["facts"] = "A 车全责\u0000"

    response = await client.rule(case_id, ruling)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "facts"]
    assert "U+0000" in response.json()["detail"][0]["msg"]


async def test_unknown_insurer_is_rejected_at_intake(client: PlatformClient) -> None:
    case = sample_case()
    case["parties"][1]["insurer_code"] = "ZZBX"

    response = await client.http.post(
        f"{client.urls.intake}/cases", json=case, headers=client.intake_headers
    )

    assert response.status_code == 422
    assert "insurer code ZZBX is unknown" in response.json()["detail"][0]["msg"]


async def test_not_a_number_is_rejected_without_echo(client: PlatformClient) -> None:
    body = json.dumps(sample_case()).replace("30.27415", "NaN")

    response = await client.http.post(
        f"{client.urls.intake}/cases",
        content=body,
        headers={"content-type": "application/json", **client.intake_headers},
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "location", "latitude"]
    assert "input" not in response.json()["detail"][0]


async def test_oversized_body_is_rejected(client: PlatformClient) -> None:
    case = sample_case()
    case["description"] = "长" * 2_000_000

    response = await client.http.post(
        f"{client.urls.intake}/cases", json=case, headers=client.intake_headers
    )

    assert response.status_code == 413
    assert response.json()["detail"]["code"] == "body_too_large"


async def test_upload_after_submit_is_rejected(
    client: PlatformClient, video: Path
) -> None:
    case_id = await queued_case(client, video)

    response = await client.upload_video(case_id, video)

    assert response.status_code == 409
    assert response.json()["detail"]["code"] == "case_already_submitted"
    assert response.json()["detail"]["message_zh"]


async def test_ruling_for_ended_workflow_closes_case(
    client: PlatformClient, temporal: Client, video: Path
) -> None:
    case_id = await queued_case(client, video)
    await temporal.get_workflow_handle(case_workflow_id(case_id)).terminate("test")

    response = await client.claim(case_id)
    queue = await client.queue()

    assert response.status_code == 409
    assert response.json()["detail"]["code"] == "case_closed"
    assert str(case_id) not in {item["case_id"] for item in queue}


async def test_ruling_for_unknown_party_is_rejected(
    client: PlatformClient, other_officer: PlatformClient, video: Path
) -> None:
    case_id = await claimed_case(client, video)
    ruling = sample_ruling()
    ruling["liabilities"][0]["party_id"] = "C"

    other = sample_ruling()
    other["officer_id"] = "330199"

    response = await client.rule(case_id, ruling)
    accepted = await client.rule(case_id, sample_ruling())
    resent = await client.rule(case_id, sample_ruling())
    again = await other_officer.rule(case_id, other)

    assert response.status_code == 422
    assert response.json()["detail"]["code"] == "ruling_rejected"
    assert "the case has ['A', 'B']" in response.json()["detail"]["message"]
    assert accepted.status_code == 200
    assert resent.status_code == 200
    assert resent.json()["ruled_at"] == accepted.json()["ruled_at"]
    assert again.status_code == 409
    assert again.json()["detail"]["code"] == "case_already_ruled"
    assert "by officer 330102" in again.json()["detail"]["message"]


async def test_ruling_for_case_not_in_queue_is_rejected(client: PlatformClient) -> None:
    case_id = await client.open_case(sample_case())

    response = await client.rule(case_id, sample_ruling())

    assert response.status_code == 404
    assert response.json()["detail"]["code"] == "case_not_found"
    assert "not in the liability queue" in response.json()["detail"]["message"]


async def test_nul_in_sign_in_is_invalid_text(client: PlatformClient) -> None:
    response = await client.http.post(
        f"{client.urls.liability}/auth/sign-in",
        json={"username": "officer\u0000", "password": "x"},
    )

    assert response.status_code == 422, response.text
    assert response.json()["detail"]["code"] == "invalid_text"
