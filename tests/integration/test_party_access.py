"""Parties reach their case by the SMS link and a one-time code sent to their phone."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from common.db import create_pool
from common.settings import PlatformSettings
from demo.client import PlatformClient, sample_case
from identity.party_access import (
    OneTimeCodes,
    PartyAccessError,
    PartyAccessPolicy,
    PartyTokens,
)
from tests.support.cases import submitted_case
from tests.support.phone import access_code, link_token, wait_for_sms

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

PHONE_A = sample_case()["parties"][0]["phone"]


async def _link_for_party_a(
    client: PlatformClient, settings: PlatformSettings
) -> tuple[UUID, str]:
    case_id = await client.open_case(sample_case())
    sent = await client.send_party_links(case_id)
    assert sent.status_code == 202, sent.text
    _, body = await wait_for_sms(settings.database_url, case_id, "case_link", PHONE_A)
    return case_id, link_token(body)


async def _request_code(
    client: PlatformClient, settings: PlatformSettings, case_id: UUID, link: str
) -> str:
    response = await client.http.post(
        f"{client.urls.intake}/access/code", json={"link_token": link}
    )
    assert response.status_code == 202, response.text
    _, body = await wait_for_sms(
        settings.database_url, case_id, "party_access_code", PHONE_A
    )
    return access_code(body)


async def _open_session(client: PlatformClient, link: str, code: str) -> httpx.Response:
    return await client.http.post(
        f"{client.urls.intake}/access/session",
        json={"link_token": link, "code": code},
    )


async def test_code_from_sms_opens_party_session(
    client: PlatformClient, settings: PlatformSettings
) -> None:
    case_id, link = await _link_for_party_a(client, settings)
    code = await _request_code(client, settings, case_id, link)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    refused = await _open_session(client, link, wrong)
    accepted = await _open_session(client, link, code)
    reused = await _open_session(client, link, code)

    assert refused.status_code == 401
    assert refused.json()["detail"]["code"] == "code_incorrect"
    assert refused.json()["detail"]["message_zh"] == "验证码不正确，还可以再试 4 次。"
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["case_id"] == str(case_id)
    assert accepted.json()["party_id"] == "A"
    assert accepted.json()["session_token"].count(".") == 1
    assert reused.status_code == 409
    assert reused.json()["detail"]["code"] == "code_not_requested"


async def test_code_requested_again_at_once_is_rejected(
    client: PlatformClient, settings: PlatformSettings
) -> None:
    case_id, link = await _link_for_party_a(client, settings)
    await _request_code(client, settings, case_id, link)

    again = await client.http.post(
        f"{client.urls.intake}/access/code", json={"link_token": link}
    )

    assert again.status_code == 429
    assert again.json()["detail"]["code"] == "code_recently_sent"
    assert "秒后再重新获取" in again.json()["detail"]["message_zh"]


async def test_code_locked_after_too_many_wrong_attempts(
    client: PlatformClient, settings: PlatformSettings
) -> None:
    case_id, link = await _link_for_party_a(client, settings)
    code = await _request_code(client, settings, case_id, link)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    attempts = [await _open_session(client, link, wrong) for _ in range(5)]
    right = await _open_session(client, link, code)

    assert [a.status_code for a in attempts] == [401, 401, 401, 401, 429]
    assert attempts[-1].json()["detail"]["code"] == "code_attempts_exceeded"
    assert right.status_code == 429
    assert right.json()["detail"]["message_zh"] == (
        "验证码错误次数过多（5 次），请重新获取验证码。"
    )


async def test_tampered_link_is_rejected(client: PlatformClient) -> None:
    response = await client.http.post(
        f"{client.urls.intake}/access/code",
        json={"link_token": "eyJraW5kIjoibGluayJ9.c2lnbmF0dXJl"},
    )

    assert response.status_code == 401
    assert response.json()["detail"]["code"] == "link_invalid"
    assert (
        response.json()["detail"]["message_zh"] == "链接无效，请重新打开短信中的链接。"
    )


async def test_expired_code_is_rejected(
    client: PlatformClient, settings: PlatformSettings
) -> None:
    case_id = await client.open_case(sample_case())
    policy = PartyAccessPolicy(secret=b"integration-test-secret-0123")
    now = datetime.now(UTC)
    link = PartyTokens(policy).read(
        PartyTokens(policy).issue_link(case_id, "A", now), "link", now
    )
    pool = await create_pool(settings.database_url, "intake", max_size=1)
    try:
        codes = OneTimeCodes(pool, policy)
        code = await codes.issue(link, now)
        with pytest.raises(PartyAccessError) as caught:
            await codes.confirm(link, code, now + policy.code_lifetime)
        await codes.confirm(link, code, now + timedelta(minutes=1))
    finally:
        await pool.close()

    assert caught.value.code == "code_expired"
    assert caught.value.message_zh == "验证码已过期，请重新获取。"


async def test_links_refused_for_on_scene_case(client: PlatformClient) -> None:
    case = sample_case()
    case["eligibility"]["anyone_injured"] = True
    created = await client.http.post(
        f"{client.urls.intake}/cases", json=case, headers=client.intake_headers
    )
    case_id = created.json()["case_id"]

    sent = await client.send_party_links(case_id)

    assert created.json()["status"] == "on_scene"
    assert sent.status_code == 409, sent.text
    assert sent.json()["detail"]["code"] == "case_sent_on_scene"
    assert "122" in sent.json()["detail"]["message_zh"]


async def test_links_refused_for_submitted_case(
    client: PlatformClient, video: Path
) -> None:
    case_id = await submitted_case(client, video)

    sent = await client.send_party_links(case_id)

    assert sent.status_code == 409, sent.text
    assert sent.json()["detail"]["code"] == "case_already_submitted"
