"""The case worker keeps a bounded number of workflows in memory."""

import inspect

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from common.settings import PlatformSettings
from workflows.case.worker import case_worker


def test_default_cache_is_below_sdk_default() -> None:
    sdk_default = inspect.signature(Worker).parameters["max_cached_workflows"].default

    assert 0 < PlatformSettings().case_worker_cached_workflows < sdk_default


async def test_case_worker_cache_follows_setting(
    dev_server: WorkflowEnvironment,
) -> None:
    settings = PlatformSettings(
        temporal_task_queue="cache-bound", case_worker_cached_workflows=7
    )

    worker = case_worker(dev_server.client, settings, [])

    assert worker.config()["max_cached_workflows"] == 7
    assert worker.config()["task_queue"] == "cache-bound"
