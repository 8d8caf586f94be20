"""Each service's database role reaches its own schema and no other."""

import asyncpg
import pytest

from common.db import create_pool
from common.migrate import SERVICE_SCHEMAS
from common.settings import PlatformSettings

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("schema", SERVICE_SCHEMAS)
async def test_service_role_is_confined_to_its_schema(
    settings: PlatformSettings, schema: str
) -> None:
    others = [other for other in SERVICE_SCHEMAS if other != schema]
    pool = await create_pool(settings.database_url, schema, max_size=1)
    try:
        own = await pool.fetchval("SELECT count(*) FROM schema_migrations")
        denied = []
        for other in others:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await pool.fetchval(f"SELECT count(*) FROM {other}.schema_migrations")
            denied.append(other)
        user = await pool.fetchval("SELECT current_user")
    finally:
        await pool.close()

    assert own >= 1
    assert denied == others
    assert user == f"dingze_{schema}"
