"""PostgreSQL pools: one per service, logged in as that service's own role."""

import asyncio
import json
import os
import time
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import structlog
from asyncpg.pool import PoolConnectionProxy

from common.outages import is_unavailable

log = structlog.get_logger(__name__)

# A connection of its own or one borrowed from a pool; both run the same queries.
Connection = asyncpg.Connection | PoolConnectionProxy


def service_role(schema: str) -> str:
    return f"dingze_{schema}"


def service_database_url(database_url: str, schema: str) -> str:
    """Return the URL a service connects with.

    ``DINGZE_<SCHEMA>_DATABASE_URL`` wins when set (production gives each service its
    own credentials). Otherwise the user of ``database_url`` is replaced by the
    service's role, which the local stack creates without a password.
    """
    override = os.environ.get(f"DINGZE_{schema.upper()}_DATABASE_URL")
    if override:
        return override
    parts = urlsplit(database_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{service_role(schema)}@{host}"))


async def _decode_json_columns(connection: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await connection.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def create_pool(
    database_url: str, schema: str, max_size: int = 10, wait_seconds: float = 60.0
) -> asyncpg.Pool:
    """Open a pool as the service's role, seeing only ``schema``, JSON as Python.

    Waits up to ``wait_seconds`` for the server, so a process may start while
    PostgreSQL is down or restarting.
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            pool = await asyncpg.create_pool(
                service_database_url(database_url, schema),
                min_size=1,
                max_size=max_size,
                init=_decode_json_columns,
                server_settings={
                    "search_path": schema,
                    "application_name": f"dingze-{schema}",
                },
            )
        except Exception as error:
            if not is_unavailable(error) or time.monotonic() > deadline:
                raise
            log.warning(
                "postgresql not reachable yet", schema=schema, error=repr(error)
            )
            await asyncio.sleep(1)
            continue
        assert pool is not None
        return pool
