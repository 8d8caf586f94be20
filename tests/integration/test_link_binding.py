"""Upload and settlement links open one party of one case, and only until expiry.

Links come from the SMS texts, or from ``PartyTokens`` built on the intake
settings with a lifetime of about a second, as intake and the case worker build
them. The running intake must then reject them with the code the phone shows.
"""

import asyncio
import base64
import json
from datetime import UTC, datetime
from uuid import UUID

import httpx
import pytest

from common.settings import PlatformSettings
from demo.client import PlatformClient, bearer, sample_case
from identity.party_access import PartyGrant, PartyTokens
from services.intake.settings import IntakeSettings
from tests.support.phone import access_code, link_token, wait_for_sms

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

PHONES = {
    chr(ord("A") + index): party["phone"]
    for index, party in enumerate(sample_case()["parties"])
}
# About 1.1 s, the lifetime of the short links and sessions below.
SHORT_HOURS = 0.0003
SETTLEMENT_FORM = {
    "claim_number": "TPIC-1",
    "consent": True,
    "account_holder": "李娜",
    "bank": "招商银行",
    "account_number": "6214 8301 0000 0123",
}


def _code(response: httpx.Response) -> str:
    code: str = response.json()["detail"]["code"]
    return code


def _grant(token: str) -> PartyGrant:
    payload = token.split(".", maxsplit=1)[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return PartyGrant.model_validate_json(decoded)


def _with_payload(token: str, **changes: str) -> str:
    """Return the token with fields of its payload changed and its signature kept."""
    payload, signature = token.split(".")
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    changed = json.dumps({**json.loads(decoded), **changes}).encode()
    encoded = base64.urlsafe_b64encode(changed).rstrip(b"=").decode()
    return f"{encoded}.{signature}"


async def _until_expired(token: str) -> None:
    """Wait until the token's expiry has passed, a second or so for short tokens."""
    left = _grant(token).expires_at - datetime.now(UTC)
    await asyncio.sleep(max(left.total_seconds(), 0.0) + 0.05)


async def _sms_link(
    client: PlatformClient, settings: PlatformSettings, case_id: UUID, party: str
) -> str:
    sent = await client.send_party_links(case_id)
    assert sent.status_code == 202, sent.text
    _, text = await wait_for_sms(
        settings.database_url, case_id, "case_link", PHONES[party]
    )
    return link_token(text)


async def _session(
    client: PlatformClient,
    settings: PlatformSettings,
    case_id: UUID,
    party: str,
    link: str,
) -> str:
    """Open a session from a link as the phone does: a code by SMS, then the code."""
    intake = client.urls.intake
    requested = await client.http.post(
        f"{intake}/access/code", json={"link_token": link}
    )
    assert requested.status_code == 202, requested.text
    _, text = await wait_for_sms(
        settings.database_url, case_id, "party_access_code", PHONES[party]
    )
    opened = await client.http.post(
        f"{intake}/access/session",
        json={"link_token": link, "code": access_code(text)},
    )
    assert opened.status_code == 200, opened.text
    token: str = opened.json()["session_token"]
    return token


async def test_case_link_opens_only_its_case(
    client: PlatformClient, settings: PlatformSettings
) -> None:
    own_case = await client.open_case(sample_case())
    other_case = await client.open_case(sample_case())
    link = await _sms_link(client, settings, own_case, "A")
    session = bearer(await _session(client, settings, own_case, "A", link))
    intake = client.urls.intake

    own = await client.http.get(f"{intake}/cases/{own_case}", headers=session)
    read = await client.http.get(f"{intake}/cases/{other_case}", headers=session)
    planned = await client.http.post(
        f"{intake}/cases/{other_case}/uploads",
        json={"kind": "photo", "content_type": "image/jpeg", "size_bytes": 1000},
        headers=session,
    )
    listed = await client.http.get(
        f"{intake}/cases/{other_case}/uploads", headers=session
    )
    submitted = await client.http.post(
        f"{intake}/cases/{other_case}/submit", headers=session
    )
    settlement = await client.http.get(
        f"{intake}/cases/{other_case}/parties/A/settlement", headers=session
    )
    moved = await client.http.post(
        f"{intake}/access/code",
        json={"link_token": _with_payload(link, case_id=str(other_case))},
    )

    assert own.status_code == 200, own.text
    for response in (read, planned, listed, submitted, settlement):
        assert response.status_code == 403, response.text
        assert _code(response) == "case_not_yours"
    assert moved.status_code == 401, moved.text
    assert _code(moved) == "link_invalid"


async def test_party_link_acts_only_for_its_party(
    client: PlatformClient, settings: PlatformSettings
) -> None:
    case_id = await client.open_case(sample_case())
    link = await _sms_link(client, settings, case_id, "A")
    session = bearer(await _session(client, settings, case_id, "A", link))
    settlement_link = PartyTokens(IntakeSettings().settlement_link_policy()).issue_link(
        case_id, "A", datetime.now(UTC), purpose="settlement"
    )
    intake = client.urls.intake

    read = await client.http.get(
        f"{intake}/cases/{case_id}/parties/B/settlement", headers=session
    )
    confirmed = await client.http.post(
        f"{intake}/cases/{case_id}/parties/B/settlement",
        json=SETTLEMENT_FORM,
        headers=session,
    )
    consented = await client.http.post(f"{intake}/party/consent", headers=session)
    as_b = await client.http.post(
        f"{intake}/access/code",
        json={"link_token": _with_payload(link, party_id="B")},
    )
    settlement_as_b = await client.http.post(
        f"{intake}/access/code",
        json={"link_token": _with_payload(settlement_link, party_id="B")},
    )

    for response in (read, confirmed):
        assert response.status_code == 403, response.text
        assert _code(response) == "settlement_not_yours"
    assert consented.status_code == 200, consented.text
    assert consented.json()["party_id"] == "A"
    for response in (as_b, settlement_as_b):
        assert response.status_code == 401, response.text
        assert _code(response) == "link_invalid"


async def test_expired_links_and_sessions_rejected(
    client: PlatformClient, settings: PlatformSettings
) -> None:
    case_id = await client.open_case(sample_case())
    short = IntakeSettings(
        party_link_hours=SHORT_HOURS,
        party_session_hours=SHORT_HOURS,
        settlement_link_hours=SHORT_HOURS,
    )
    now = datetime.now(UTC)
    case_link = PartyTokens(short.party_access_policy()).issue_link(case_id, "A", now)
    settlement_link = PartyTokens(short.settlement_link_policy()).issue_link(
        case_id, "A", now, purpose="settlement"
    )
    live_link = await _sms_link(client, settings, case_id, "A")
    grant = PartyTokens(short.party_access_policy()).read(live_link, "link", now)
    session, _ = PartyTokens(short.party_access_policy()).issue_session(grant, now)
    # The same grant with the default lifetime: only the expiry differs.
    lasting, _ = PartyTokens(IntakeSettings().party_access_policy()).issue_session(
        grant, now
    )
    intake = client.urls.intake

    for token in (case_link, settlement_link, session):
        await _until_expired(token)
    expired_case_link = await client.http.post(
        f"{intake}/access/code", json={"link_token": case_link}
    )
    expired_settlement_link = await client.http.post(
        f"{intake}/access/code", json={"link_token": settlement_link}
    )
    expired_session = await client.http.get(
        f"{intake}/cases/{case_id}", headers=bearer(session)
    )
    live_session = await client.http.get(
        f"{intake}/cases/{case_id}", headers=bearer(lasting)
    )

    assert live_session.status_code == 200, live_session.text
    assert expired_case_link.status_code == 401, expired_case_link.text
    assert _code(expired_case_link) == "link_expired"
    assert "链接已过期" in expired_case_link.json()["detail"]["message_zh"]
    assert expired_settlement_link.status_code == 401, expired_settlement_link.text
    assert _code(expired_settlement_link) == "settlement_link_expired"
    assert (
        "理赔确认链接已过期" in (expired_settlement_link.json()["detail"]["message_zh"])
    )
    assert expired_session.status_code == 401, expired_session.text
    assert _code(expired_session) == "session_expired"
    assert "登录已过期" in expired_session.json()["detail"]["message_zh"]
