"""Signing out makes a staff token or a party session useless in every service."""

import uuid
from uuid import UUID

import asyncpg
import httpx
import pytest

from common.db import create_pool
from common.settings import PlatformSettings
from demo.client import (
    LOCAL_AUXILIARY,
    LOCAL_OFFICER,
    LOCAL_OPERATOR,
    PlatformClient,
    bearer,
    sample_case,
)
from tests.support.phone import party_session

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

PHONE_A = sample_case()["parties"][0]["phone"]


def _code(response: httpx.Response) -> str:
    code: str = response.json()["detail"]["code"]
    return code


async def test_auxiliary_token_rejected_after_sign_out(
    client: PlatformClient,
) -> None:
    signed_in = await client.request_token(*LOCAL_AUXILIARY)
    token = bearer(signed_in["access_token"])
    liability, intake = client.urls.liability, client.urls.intake

    before = await client.http.post(
        f"{intake}/cases", json=sample_case(), headers=token
    )
    signed_out = await client.http.post(f"{liability}/auth/sign-out", headers=token)
    me = await client.http.get(f"{liability}/auth/me", headers=token)
    after = await client.http.post(f"{intake}/cases", json=sample_case(), headers=token)
    again = await client.http.post(f"{liability}/auth/sign-out", headers=token)
    fresh = await client.request_token(*LOCAL_AUXILIARY)
    renewed = await client.http.post(
        f"{intake}/cases",
        json=sample_case(),
        headers=bearer(fresh["access_token"]),
    )

    assert before.status_code == 201, before.text
    assert signed_out.status_code == 204, signed_out.text
    assert me.status_code == 401
    assert _code(me) == "not_signed_in"
    assert "signed out" in me.json()["detail"]["message"]
    assert after.status_code == 401
    assert _code(after) == "staff_token_invalid"
    assert again.status_code == 401
    assert renewed.status_code == 201, renewed.text


async def test_operator_token_rejected_by_notify(client: PlatformClient) -> None:
    signed_in = await client.request_token(*LOCAL_OPERATOR)
    token = bearer(signed_in["access_token"])
    case_id = await client.open_case(sample_case())
    messages = f"{client.urls.notify}/cases/{case_id}/messages"

    before = await client.http.get(messages, headers=token)
    await client.http.post(f"{client.urls.liability}/auth/sign-out", headers=token)
    after = await client.http.get(messages, headers=token)

    assert before.status_code == 200, before.text
    assert after.status_code == 401
    assert _code(after) == "not_signed_in"


async def test_sign_out_is_audited(
    client: PlatformClient, settings: PlatformSettings
) -> None:
    signed_in = await client.request_token(*LOCAL_OFFICER)
    token = bearer(signed_in["access_token"])

    signed_out = await client.http.post(
        f"{client.urls.liability}/auth/sign-out", headers=token
    )
    entries = await _sign_outs(settings, "officer")

    assert signed_out.status_code == 204
    assert entries >= 1


async def test_party_session_rejected_after_sign_out(
    client: PlatformClient, settings: PlatformSettings
) -> None:
    case_id = await client.open_case(sample_case())
    token = await party_session(
        client.http,
        client.urls.intake,
        settings.database_url,
        case_id,
        PHONE_A,
        client.intake_headers,
    )
    session = bearer(token)
    intake = client.urls.intake

    before = await client.http.get(f"{intake}/party/case", headers=session)
    signed_out = await client.http.post(f"{intake}/access/sign-out", headers=session)
    after = await client.http.get(f"{intake}/party/case", headers=session)
    upload = await client.http.post(
        f"{intake}/cases/{case_id}/uploads",
        json={"kind": "video", "content_type": "video/mp4", "size_bytes": 1000},
        headers=session,
    )
    staff = await client.http.post(
        f"{intake}/access/sign-out", headers=client.intake_headers
    )
    new_token = await party_session(
        client.http,
        intake,
        settings.database_url,
        case_id,
        PHONE_A,
        client.intake_headers,
    )
    renewed = await client.http.get(f"{intake}/party/case", headers=bearer(new_token))

    assert before.status_code == 200, before.text
    assert signed_out.status_code == 204, signed_out.text
    for response in (after, upload):
        assert response.status_code == 401, response.text
        assert _code(response) == "session_signed_out"
        assert response.json()["detail"]["message_zh"] == (
            "您已退出登录，请重新打开短信链接并输入验证码。"
        )
    assert staff.status_code == 401
    assert renewed.status_code == 200, renewed.text
    assert await _revoked_kinds(settings, case_id) == ["party"]


async def test_revocations_reach_only_token_checkers(
    settings: PlatformSettings,
) -> None:
    token_id = f"test-{uuid.uuid4().hex}"
    insert = (
        "INSERT INTO identity.revoked_tokens (token_id, kind, subject, expires_at)"
        " VALUES ($1, 'staff', 'test', now() + interval '1 hour')"
    )
    read = "SELECT count(*) FROM identity.revoked_tokens WHERE token_id = $1"
    intake = await create_pool(settings.database_url, "intake", max_size=1)
    notify = await create_pool(settings.database_url, "notify", max_size=1)
    insurance = await create_pool(settings.database_url, "insurance", max_size=1)
    try:
        await intake.execute(insert, token_id)
        seen_by_notify = await notify.fetchval(read, token_id)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await notify.execute(insert, f"{token_id}-notify")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await insurance.fetchval(read, token_id)
    finally:
        for pool in (intake, notify, insurance):
            await pool.close()

    assert seen_by_notify == 1


async def _sign_outs(settings: PlatformSettings, subject: str) -> int:
    connection = await asyncpg.connect(settings.database_url)
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM liability.audit_log"
            " WHERE action = 'sign_out' AND subject = $1",
            subject,
        )
    finally:
        await connection.close()
    return count


async def _revoked_kinds(settings: PlatformSettings, case_id: UUID) -> list[str]:
    connection = await asyncpg.connect(settings.database_url)
    try:
        rows = await connection.fetch(
            "SELECT kind FROM identity.revoked_tokens WHERE subject LIKE $1",
            f"{case_id}:%",
        )
    finally:
        await connection.close()
    return [row["kind"] for row in rows]
