"""Failed sign-ins and code requests are limited per account and per client address.

Each test sends ``X-Forwarded-For`` addresses of its own, which uvicorn trusts from
loopback, so its failures count against no other test's client.
"""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

import httpx
import pytest

from common.db import create_pool
from common.settings import PlatformSettings
from demo.client import LOCAL_OFFICER, PlatformClient, sample_case
from identity.attempts import AttemptGuard, AttemptLimit, TooManyAttemptsError
from tests.support.phone import access_code, link_token, wait_for_sms
from tests.support.platform import PlatformProcesses

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

PHONE_A = sample_case()["parties"][0]["phone"]


def _address() -> str:
    """Return a random client address in 198.18.0.0/15, reserved for benchmarks."""
    number = uuid.uuid4().int
    return f"198.{18 + number % 2}.{number // 2 % 256}.{number // 512 % 254 + 1}"


def _from(address: str) -> dict[str, str]:
    return {"x-forwarded-for": address}


async def _sign_in(
    http: httpx.AsyncClient, base: str, username: str, password: str, address: str
) -> httpx.Response:
    return await http.post(
        f"{base}/auth/sign-in",
        json={"username": username, "password": password},
        headers=_from(address),
    )


def _check_rate_limited(response: httpx.Response, code: str, window: int) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["detail"]["code"] == code
    assert response.json()["detail"]["message_zh"]
    assert 0 < int(response.headers["retry-after"]) <= window


async def test_account_locked_after_failed_sign_ins(
    platform: PlatformProcesses,
) -> None:
    # No other test signs in as the insurer's account, so locking it harms none.
    base = platform.urls.liability
    async with httpx.AsyncClient(timeout=60) as http:
        failures = [
            await _sign_in(http, base, "insurer-picc", "wrong", _address())
            for _ in range(5)
        ]
        locked = await _sign_in(
            http, base, "insurer-picc", "insurer-picc-local", _address()
        )
        other_account = await _sign_in(http, base, *LOCAL_OFFICER, _address())

    assert [response.status_code for response in failures] == [401] * 5
    _check_rate_limited(locked, "too_many_sign_in_failures", 15 * 60)
    assert "insurer-picc" in locked.json()["detail"]["message"]
    assert other_account.status_code == 200, other_account.text


async def test_client_limited_after_failed_sign_ins(
    platform: PlatformProcesses,
) -> None:
    base = platform.urls.liability
    address = _address()
    async with httpx.AsyncClient(timeout=60) as http:
        failures = [
            await _sign_in(http, base, f"nobody-{index}", "wrong", address)
            for index in range(20)
        ]
        limited = await _sign_in(http, base, *LOCAL_OFFICER, address)
        elsewhere = await _sign_in(http, base, *LOCAL_OFFICER, _address())

    assert {response.status_code for response in failures} == {401}
    _check_rate_limited(limited, "too_many_sign_in_failures", 15 * 60)
    assert "this address" in limited.json()["detail"]["message"]
    assert elsewhere.status_code == 200, elsewhere.text


async def test_successful_sign_ins_do_not_count(platform: PlatformProcesses) -> None:
    base = platform.urls.liability
    address = _address()
    async with httpx.AsyncClient(timeout=60) as http:
        answers = [
            await _sign_in(http, base, "officer2", "officer2-local", address)
            for _ in range(7)
        ]

    assert {response.status_code for response in answers} == {200}


async def _party_link(
    client: PlatformClient, settings: PlatformSettings
) -> tuple[UUID, str]:
    case_id = await client.open_case(sample_case())
    sent = await client.send_party_links(case_id)
    assert sent.status_code == 202, sent.text
    _, body = await wait_for_sms(settings.database_url, case_id, "case_link", PHONE_A)
    return case_id, link_token(body)


async def test_party_limited_after_wrong_codes(
    client: PlatformClient, settings: PlatformSettings
) -> None:
    case_id, link = await _party_link(client, settings)
    intake = client.urls.intake

    # Entries before any code was sent fail too, and count against the party.
    failures = [
        await client.http.post(
            f"{intake}/access/session",
            json={"link_token": link, "code": "000000"},
            headers=_from(_address()),
        )
        for _ in range(10)
    ]
    requested = await client.http.post(
        f"{intake}/access/code", json={"link_token": link}, headers=_from(_address())
    )
    _, body = await wait_for_sms(
        settings.database_url, case_id, "party_access_code", PHONE_A
    )
    locked = await client.http.post(
        f"{intake}/access/session",
        json={"link_token": link, "code": access_code(body)},
        headers=_from(_address()),
    )

    assert {response.status_code for response in failures} == {409}
    assert requested.status_code == 202, requested.text
    _check_rate_limited(locked, "too_many_code_failures", 60 * 60)
    assert locked.json()["detail"]["message_zh"] == (
        "验证码输入错误次数过多，请 60 分钟后再试。"
    )


async def test_party_limited_after_code_requests(
    client: PlatformClient, settings: PlatformSettings
) -> None:
    case_id = await client.open_case(sample_case())
    intake = client.urls.intake
    delivery = 0
    requests = []
    # Each link gets its own code at once, so six links send six codes in a row.
    for _ in range(6):
        sent = await client.send_party_links(case_id)
        assert sent.status_code == 202, sent.text
        delivery, body = await wait_for_sms(
            settings.database_url, case_id, "case_link", PHONE_A, after=delivery
        )
        requests.append(
            await client.http.post(
                f"{intake}/access/code",
                json={"link_token": link_token(body)},
                headers=_from(_address()),
            )
        )

    assert [response.status_code for response in requests[:5]] == [202] * 5
    _check_rate_limited(requests[5], "too_many_code_requests", 60 * 60)
    assert requests[5].json()["detail"]["message_zh"] == (
        "获取验证码次数过多，请 60 分钟后再试。"
    )


async def test_client_limited_after_wrong_links(
    client: PlatformClient, settings: PlatformSettings
) -> None:
    _, link = await _party_link(client, settings)
    intake = client.urls.intake
    address = _address()

    failures = [
        await client.http.post(
            f"{intake}/access/session",
            json={"link_token": f"forged-{index}.link", "code": "123456"},
            headers=_from(address),
        )
        for index in range(30)
    ]
    limited = await client.http.post(
        f"{intake}/access/session",
        json={"link_token": link, "code": "123456"},
        headers=_from(address),
    )

    assert {response.status_code for response in failures} == {401}
    _check_rate_limited(limited, "too_many_code_failures", 60 * 60)
    assert "from this address" in limited.json()["detail"]["message"]


async def test_concurrent_attempts_stop_at_limit(settings: PlatformSettings) -> None:
    pool = await create_pool(settings.database_url, "liability", max_size=10)
    guard = AttemptGuard(
        pool,
        f"test-{uuid.uuid4().hex[:8]}",
        AttemptLimit(5, timedelta(minutes=15)),
        AttemptLimit(100, timedelta(minutes=15)),
    )
    now = datetime.now(UTC)
    try:
        results = await asyncio.gather(
            *(guard.begin("account", f"client-{index}", now) for index in range(20)),
            return_exceptions=True,
        )
        refused = [r for r in results if isinstance(r, TooManyAttemptsError)]
        accepted = [r for r in results if not isinstance(r, BaseException)]
        await guard.forget(accepted[0])
        after_forget = await guard.begin("account", "client-x", now)
        later = await guard.begin(
            "account", "client-y", now + timedelta(minutes=15, seconds=1)
        )
    finally:
        await pool.close()

    assert len(accepted) == 5
    assert len(refused) == 15
    assert {error.kind for error in refused} == {"account"}
    assert {error.retry_after for error in refused} == {15 * 60}
    assert len(after_forget.attempt_ids) == 2
    assert len(later.attempt_ids) == 2


async def test_client_limit_counts_every_account(settings: PlatformSettings) -> None:
    pool = await create_pool(settings.database_url, "intake", max_size=2)
    guard = AttemptGuard(
        pool,
        f"test-{uuid.uuid4().hex[:8]}",
        AttemptLimit(100, timedelta(hours=1)),
        AttemptLimit(3, timedelta(hours=1)),
    )
    now = datetime.now(UTC)
    try:
        for index in range(3):
            await guard.begin(
                f"party-{index}", "203.0.113.9", now + timedelta(minutes=index)
            )
        with pytest.raises(TooManyAttemptsError) as caught:
            await guard.begin(None, "203.0.113.9", now + timedelta(minutes=10))
        other_client = await guard.begin("party-0", "203.0.113.10", now)
    finally:
        await pool.close()

    assert caught.value.kind == "client"
    # The first attempt leaves the hour at now + 60 min, 50 min after the refusal.
    assert caught.value.retry_after == 50 * 60
    assert caught.value.minutes == 50
    assert len(other_client.attempt_ids) == 2
