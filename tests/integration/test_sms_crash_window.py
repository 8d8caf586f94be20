"""Notify killed between a text's delivery and its sent mark sends it once.

A trigger that the test adds makes the sent mark wait on an advisory lock that
the test holds, so notify is killed at exactly that moment. The local provider's
delivery and the mark commit together, so the delivery is rolled back with the
mark, and the restarted notify sends the text once.
"""

import asyncio
import time
import uuid

import asyncpg
import pytest

from common.settings import PlatformSettings
from contracts.events import SmsRequested
from tests.support.insurers import send_event
from tests.support.platform import PlatformProcesses

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
# Any key that no other code of the platform locks.
LOCK_KEY = 4_221_007


def _trigger_sql(message_id: str) -> list[str]:
    """Return SQL that makes the sent mark of ``message_id`` wait for the lock."""
    return [
        f"""
        CREATE FUNCTION notify.hold_sent_mark() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.message_id = '{message_id}' AND NEW.status = 'sent' THEN
                PERFORM pg_advisory_xact_lock({LOCK_KEY});
            END IF;
            RETURN NEW;
        END;
        $$
        """,
        "CREATE TRIGGER hold_sent_mark BEFORE UPDATE ON notify.messages"
        " FOR EACH ROW EXECUTE FUNCTION notify.hold_sent_mark()",
    ]


async def _wait_for_lock_waiter(connection: asyncpg.Connection) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        waiting = await connection.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
            " AND objid = $1 AND NOT granted",
            LOCK_KEY,
        )
        if waiting:
            return
        await asyncio.sleep(0.2)
    raise TimeoutError("notify never reached the sent mark")


async def _deliveries(connection: asyncpg.Connection, message_id: str) -> int:
    count: int = await connection.fetchval(
        "SELECT count(*) FROM notify.local_deliveries WHERE message_id = $1",
        message_id,
    )
    return count


async def test_kill_before_sent_mark_sends_once(
    platform: PlatformProcesses, settings: PlatformSettings
) -> None:
    case_id = uuid.uuid4()
    request = SmsRequested(
        case_id=case_id,
        message_id=f"{case_id}:evidence_received:A",
        party_id="A",
        phone="13900001111",
        template="evidence_received",
        variables={"case_number": str(case_id)[:8], "plate": "浙A12345"},
    )
    topic = f"{platform.env['DINGZE_KAFKA_TOPIC_PREFIX']}{SmsRequested.topic}"
    holder = await asyncpg.connect(settings.database_url)
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
        for sql in _trigger_sql(request.message_id):
            await holder.execute(sql)

        await send_event(settings.kafka_bootstrap, topic, request)
        await _wait_for_lock_waiter(holder)
        platform.kill("notify")
        await holder.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
        await holder.execute("DROP TRIGGER hold_sent_mark ON notify.messages")
        await holder.execute("DROP FUNCTION notify.hold_sent_mark()")
        before_restart = await _deliveries(holder, request.message_id)
        platform.start("notify", "services.notify")
        await asyncio.to_thread(platform.wait_healthy, "notify")
        deadline = time.monotonic() + 60
        status = None
        while status != "sent" and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            status = await holder.fetchval(
                "SELECT status FROM notify.messages WHERE message_id = $1",
                request.message_id,
            )
        # A few seconds more, for a second send to show.
        await asyncio.sleep(2)
        after_restart = await _deliveries(holder, request.message_id)
    finally:
        await holder.execute("DROP TRIGGER IF EXISTS hold_sent_mark ON notify.messages")
        await holder.execute("DROP FUNCTION IF EXISTS notify.hold_sent_mark()")
        await holder.close()
        if "notify" not in platform.processes:
            platform.start("notify", "services.notify")
            await asyncio.to_thread(platform.wait_healthy, "notify")

    assert before_restart == 0
    assert status == "sent"
    assert after_restart == 1
