"""PostgreSQL pools: one per service, logged in as that service's own role."""

import json
import os
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy

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
    database_url: str, schema: str, max_size: int = 10
) -> asyncpg.Pool:
    """Open a pool as the service's role, seeing only ``schema``, JSON as Python."""
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
    assert pool is not None
    return pool
