"""A process that starts while PostgreSQL is down waits for it instead of exiting."""

import asyncio

import pytest

from chaos.targets import StackEngine
from common.db import create_pool
from common.settings import PlatformSettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


async def test_pool_waits_for_restarted_postgres(settings: PlatformSettings) -> None:
    postgres = StackEngine("postgres", settings)
    await asyncio.to_thread(postgres.kill)
    try:
        opening = asyncio.create_task(
            create_pool(settings.database_url, "notify", max_size=1)
        )
        # Long enough for a pool that does not wait to fail on the refused port.
        await asyncio.sleep(3)
        failed_early = opening.done()
    finally:
        await asyncio.to_thread(postgres.start)
    pool = await asyncio.wait_for(opening, timeout=120)
    try:
        answer = await pool.fetchval("SELECT 1")
    finally:
        await pool.close()
    await postgres.wait_ready()

    assert not failed_early
    assert answer == 1
