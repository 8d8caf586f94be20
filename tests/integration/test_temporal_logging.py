"""The Temporal SDK core's own warnings leave through Python logging, as JSON."""

import asyncio
import json
import logging
import os
import subprocess
import sys
import uuid

import pytest
from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker

from common.logging import configure_logging
from common.settings import PlatformSettings
from common.temporal import CORE_LOGGER_NAME, connect_temporal
from tests.support.platform import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
CORE_WARNING = "Failing workflow task"


# Unsandboxed, because the sandbox would re-import this module and pytest with it.
@workflow.defn(sandboxed=False)
class BrokenWorkflow:
    @workflow.run
    async def run(self) -> None:
        raise RuntimeError("broken workflow code")


class _RecordList(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def fail_one_workflow_task(client: Client) -> list[logging.LogRecord]:
    """Run a workflow whose task fails, which the core logs as a warning.

    The records the ``temporalio.core`` logger received are returned once one of
    them is that warning, or after 10 s.
    """
    core_logger = logging.getLogger(CORE_LOGGER_NAME)
    received = _RecordList()
    core_logger.addHandler(received)
    task_queue = f"core-log-test-{uuid.uuid4().hex[:8]}"
    try:
        async with Worker(client, task_queue=task_queue, workflows=[BrokenWorkflow]):
            handle = await client.start_workflow(
                BrokenWorkflow.run, id=task_queue, task_queue=task_queue
            )
            for _ in range(100):
                if any(CORE_WARNING in r.getMessage() for r in received.records):
                    break
                await asyncio.sleep(0.1)
            await handle.terminate("test finished")
    finally:
        core_logger.removeHandler(received)
    return received.records


async def log_core_warning_as_service() -> None:
    """Start up as a service does, then make the core warn."""
    configure_logging("core-log-test")
    client = await connect_temporal(PlatformSettings())
    await fail_one_workflow_task(client)


async def test_core_warning_is_python_log_record(temporal: Client) -> None:
    records = await fail_one_workflow_task(temporal)

    core_warnings = [r for r in records if CORE_WARNING in r.getMessage()]
    assert core_warnings, [r.getMessage() for r in records]
    assert core_warnings[0].levelno == logging.WARNING
    assert core_warnings[0].name.startswith(f"{CORE_LOGGER_NAME}-sdk_core::")


def test_core_warning_is_json_line(settings: PlatformSettings) -> None:
    # A process of its own, so logging is configured before the runtime starts.
    probe = (
        "import asyncio\n"
        "from tests.integration.test_temporal_logging import "
        "log_core_warning_as_service\n"
        "asyncio.run(log_core_warning_as_service())\n"
        "from common.temporal import exit_now\n"
        "exit_now(0)\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**os.environ, "DINGZE_TEMPORAL_ADDRESS": settings.temporal_address},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if CORE_WARNING in line]
    assert lines, result.stdout
    record = json.loads(lines[0])
    assert record["level"] == "warning"
    assert record["service"] == "core-log-test"
    assert "sdk_core" not in result.stderr
