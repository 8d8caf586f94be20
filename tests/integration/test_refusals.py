"""What the platform refuses, and the messages it gives."""

from collections.abc import Callable
from pathlib import Path

import pytest

from demo.client import PlatformClient, sample_case, sample_ruling

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
    case_id = await client.open_case(sample_case())
    await client.upload_video(case_id, video)
    await client.submit(case_id)
    await client.wait_until_queued(case_id)
    ruling = sample_ruling()
    ruling["liabilities"] = [
        {"party_id": "A", "category": "secondary", "share": 30},
        {"party_id": "B", "category": "primary", "share": 60},
    ]

    response = await client.rule(case_id, ruling)

    assert response.status_code == 422
    assert "must add up to 100, got 90" in response.text


async def test_ruling_for_unknown_party_is_rejected(
    client: PlatformClient, video: Path
) -> None:
    case_id = await client.open_case(sample_case())
    await client.upload_video(case_id, video)
    await client.submit(case_id)
    await client.wait_until_queued(case_id)
    ruling = sample_ruling()
    ruling["liabilities"][0]["party_id"] = "C"

    response = await client.rule(case_id, ruling)
    accepted = await client.rule(case_id, sample_ruling())
    again = await client.rule(case_id, sample_ruling())

    assert response.status_code == 409
    assert "the case has ['A', 'B']" in response.json()["detail"]
    assert accepted.status_code == 200
    assert again.status_code == 409
    assert "already ruled" in again.json()["detail"]


async def test_ruling_for_case_not_in_queue_is_rejected(client: PlatformClient) -> None:
    case_id = await client.open_case(sample_case())

    response = await client.rule(case_id, sample_ruling())

    assert response.status_code == 404
    assert "not in the liability queue" in response.json()["detail"]
