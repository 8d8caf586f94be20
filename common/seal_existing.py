"""Seal the personal data that rows written before encryption still hold in plain text.

``python -m common.migrate`` runs this after the SQL migrations, as the role that
owns the schemas. Each step picks only rows that are not sealed yet, so a second
run changes nothing, and a run cut short is finished by the next one.
"""

from collections.abc import Awaitable, Callable

import asyncpg

from common.sealing import Purpose, is_sealed, lookup_hash, seal

BATCH_SIZE = 500
# The schemas with an outbox, whose payload column contains a whole event.
OUTBOX_SCHEMAS = ("intake", "insurance", "case_worker")
WEBHOOK_TABLES = ("webhook_deliveries", "webhook_dead_letters")

Step = Callable[[asyncpg.Connection], Awaitable[int]]


async def _seal_column(
    connection: asyncpg.Connection,
    table: str,
    key: str,
    column: str,
    purpose: Purpose,
) -> int:
    """Seal one text column of a table, batch by batch; return the rows changed."""
    changed = 0
    while True:
        rows = await connection.fetch(
            f"SELECT {key} AS key, {column} AS value FROM {table}"
            f" WHERE {column} IS NOT NULL AND {column} NOT LIKE 'dz1:%'"
            f" LIMIT {BATCH_SIZE}"
        )
        if not rows:
            return changed
        await connection.executemany(
            f"UPDATE {table} SET {column} = $2 WHERE {key} = $1",
            [(row["key"], seal(row["value"], purpose)) for row in rows],
        )
        changed += len(rows)


async def seal_case_details(connection: asyncpg.Connection) -> int:
    """Replace each case's details object by its sealed text, a JSON string."""
    changed = 0
    while True:
        rows = await connection.fetch(
            "SELECT case_id, details::text AS details FROM intake.cases"
            f" WHERE jsonb_typeof(details) = 'object' LIMIT {BATCH_SIZE}"
        )
        if not rows:
            return changed
        await connection.executemany(
            "UPDATE intake.cases SET details = to_jsonb($2::text) WHERE case_id = $1",
            [
                (row["case_id"], seal(row["details"], Purpose.CASE_DETAILS))
                for row in rows
            ],
        )
        changed += len(rows)


async def seal_phone_numbers(connection: asyncpg.Connection) -> int:
    """Hash and seal the phone numbers of notify's messages and local deliveries."""
    changed = 0
    for table, key in (
        ("notify.messages", "message_id"),
        ("notify.local_deliveries", "delivery_id"),
    ):
        while True:
            rows = await connection.fetch(
                f"SELECT {key} AS key, phone FROM {table}"
                f" WHERE phone_hash IS NULL LIMIT {BATCH_SIZE}"
            )
            if not rows:
                break
            await connection.executemany(
                f"UPDATE {table} SET phone = $2, phone_hash = $3 WHERE {key} = $1",
                [_sealed_phone(row["key"], row["phone"]) for row in rows],
            )
            changed += len(rows)
    return changed


def _sealed_phone(key: object, phone: str) -> tuple[object, str, str]:
    if is_sealed(phone):
        # Notify writes a sealed number and its hash in one insert, so a sealed
        # number without a hash was changed by hand, and only its writer can fix it.
        raise ValueError(f"row {key} has a sealed phone number but no hash")
    return key, seal(phone, Purpose.PHONE), lookup_hash(phone, Purpose.PHONE)


async def seal_outboxes(connection: asyncpg.Connection) -> int:
    changed = 0
    for schema in OUTBOX_SCHEMAS:
        changed += await _seal_column(
            connection, f"{schema}.outbox", "position", "payload", Purpose.OUTBOX
        )
    return changed


async def seal_webhooks(connection: asyncpg.Connection) -> int:
    """Seal the insurers' signing secrets and the queued and parked webhook bodies."""
    changed = await _seal_column(
        connection,
        "insurance.insurers",
        "code",
        "signing_secret",
        Purpose.WEBHOOK_SECRET,
    )
    for table in WEBHOOK_TABLES:
        changed += await _seal_column(
            connection,
            f"insurance.{table}",
            "delivery_id",
            "payload",
            Purpose.WEBHOOK_PAYLOAD,
        )
    return changed


STEPS: dict[str, Step] = {
    "intake.cases.details": seal_case_details,
    "notify phone numbers": seal_phone_numbers,
    "outbox payloads": seal_outboxes,
    "insurance webhooks": seal_webhooks,
}


async def seal_existing_rows(database_url: str) -> dict[str, int]:
    """Run every step in one transaction; return the rows each one sealed."""
    connection = await asyncpg.connect(database_url)
    try:
        async with connection.transaction():
            counts = {name: await step(connection) for name, step in STEPS.items()}
    finally:
        await connection.close()
    return counts
