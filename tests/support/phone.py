"""A party's phone in tests: the SMS texts that the local provider delivered."""

from uuid import UUID

import asyncpg
import httpx

from demo.sms import access_code, link_token, wait_for_sms

__all__ = ["access_code", "link_token", "party_session", "wait_for_sms"]


async def party_session(
    http: httpx.AsyncClient,
    intake: str,
    database_url: str,
    case_id: UUID,
    phone: str,
    officer_headers: dict[str, str],
    consent: bool = True,
) -> str:
    """Take a party through the SMS link and code as a phone would; return the token.

    Sends the case's links as the auxiliary officer of ``officer_headers``, reads
    the link and then the code from the local SMS deliveries, opens a session and,
    unless ``consent`` is False, gives consent. Only texts sent after the call began are
    read, so a second session of the same party gets a new link and code.
    """
    before = await _latest_delivery(database_url)
    sent = await http.post(
        f"{intake}/cases/{case_id}/party-links", headers=officer_headers
    )
    assert sent.status_code == 202, sent.text
    _, body = await wait_for_sms(database_url, case_id, "case_link", phone, before)
    link = link_token(body)
    requested = await http.post(f"{intake}/access/code", json={"link_token": link})
    assert requested.status_code == 202, requested.text
    _, body = await wait_for_sms(
        database_url, case_id, "party_access_code", phone, before
    )
    opened = await http.post(
        f"{intake}/access/session",
        json={"link_token": link, "code": access_code(body)},
    )
    assert opened.status_code == 200, opened.text
    token: str = opened.json()["session_token"]
    if consent:
        agreed = await http.post(
            f"{intake}/party/consent", headers={"authorization": f"Bearer {token}"}
        )
        assert agreed.status_code == 200, agreed.text
    return token


async def _latest_delivery(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        latest: int = await connection.fetchval(
            "SELECT coalesce(max(delivery_id), 0) FROM notify.local_deliveries"
        )
    finally:
        await connection.close()
    return latest
