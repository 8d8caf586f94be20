"""PostgreSQL pools: one per service, confined to that service's schema."""

import json

import asyncpg


async def _decode_json_columns(connection: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await connection.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def create_pool(
    database_url: str, schema: str, max_size: int = 10
) -> asyncpg.Pool:
    """Open a pool whose connections see only ``schema`` and map JSON to Python."""
    pool = await asyncpg.create_pool(
        database_url,
        min_size=1,
        max_size=max_size,
        init=_decode_json_columns,
        server_settings={"search_path": schema, "application_name": f"dingze-{schema}"},
    )
    assert pool is not None
    return pool
