"""The consumer inbox: event ids already handled, so a redelivery has no effect.

A handler records the event id with ``first_delivery`` in the transaction that
applies the event's effect. A redelivered event, after a crash before the offset
commit or a relay that published twice, finds its id and changes nothing.
"""

from uuid import UUID

from common.db import Connection


async def first_delivery(connection: Connection, event_id: UUID, topic: str) -> bool:
    """Record the event id; return False when it was recorded before.

    Call it inside the transaction of the effect, so the id and the effect
    commit together.
    """
    recorded = await connection.fetchval(
        "INSERT INTO inbox (event_id, topic) VALUES ($1, $2)"
        " ON CONFLICT (event_id) DO NOTHING RETURNING true",
        event_id,
        topic,
    )
    return bool(recorded)
