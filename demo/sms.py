"""A party's phone in the demo and the tests: the texts the local SMS provider
delivered, read from its table ``notify.local_deliveries``.
"""

import asyncio
import re
from uuid import UUID

import asyncpg

from common.sealing import Purpose, lookup_hash

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
                " WHERE message_id LIKE $1 AND phone_hash = $2 AND delivery_id > $3"
                " ORDER BY delivery_id DESC LIMIT 1",
                f"{case_id}:{template}:%",
                lookup_hash(phone, Purpose.PHONE),
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
