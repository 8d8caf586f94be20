"""A party's phone in tests: the SMS texts that the local provider delivered."""

import asyncio
import re
from uuid import UUID

import asyncpg
import httpx

SMS_WAIT_SECONDS = 30.0


async def wait_for_sms(
    database_url: str, case_id: UUID, template: str, phone: str, after: int = 0
) -> tuple[int, str]:
    """Wait for a text of ``template`` to ``phone`` newer than delivery ``after``.

    Returns the delivery id and the body, read from ``notify.local_deliveries``.
    """
    connection = await asyncpg.connect(database_url)
    try:
        for _ in range(int(SMS_WAIT_SECONDS / 0.2)):
            row = await connection.fetchrow(
                "SELECT delivery_id, body FROM notify.local_deliveries"
                " WHERE message_id LIKE $1 AND phone = $2 AND delivery_id > $3"
                " ORDER BY delivery_id DESC LIMIT 1",
                f"{case_id}:{template}:%",
                phone,
                after,
            )
            if row is not None:
                return row["delivery_id"], row["body"]
            await asyncio.sleep(0.2)
    finally:
        await connection.close()
    raise TimeoutError(f"no {template} text to {phone} for case {case_id}")


def link_token(body: str) -> str:
    """Return the link token from the fragment of the phone page link in a text."""
    match = re.search(r"/phone/#t=([A-Za-z0-9_.-]+)", body)
    assert match is not None, body
    return match.group(1)


def access_code(body: str) -> str:
    match = re.search(r"验证码是 ([0-9]{6})", body)
    assert match is not None, body
    return match.group(1)


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
    unless told otherwise, gives consent.
    """
    sent = await http.post(
        f"{intake}/cases/{case_id}/party-links", headers=officer_headers
    )
    assert sent.status_code == 202, sent.text
    _, body = await wait_for_sms(database_url, case_id, "case_link", phone)
    link = link_token(body)
    requested = await http.post(f"{intake}/access/code", json={"link_token": link})
    assert requested.status_code == 202, requested.text
    _, body = await wait_for_sms(database_url, case_id, "party_access_code", phone)
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
