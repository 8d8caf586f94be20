"""A Temporal client with the pydantic converter and encrypted payloads, logging
through Python logging.
"""

import asyncio
import functools
import logging
import os
import sys
import time
from typing import NoReturn

import structlog
from temporalio.client import Client
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from common.settings import PlatformSettings
from common.temporal_codec import sealing_data_converter

CORE_LOGGER_NAME = "temporalio.core"
log = structlog.get_logger(__name__)


class _BindService(logging.Filter):
    """Bind the process's ``service`` log field in the thread that logs the record.

    The core hands its log lines to Python on a thread of its own, which does not
    see the context that ``configure_logging`` bound the service name in.
    """

    def __init__(self, service: object) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        structlog.contextvars.bind_contextvars(service=self.service)
        return True


@functools.cache
def sdk_runtime() -> Runtime:
    """Return the process's Temporal runtime, created on first use.

    The SDK's core, written in Rust, otherwise writes its own coloured text lines
    to stderr. This runtime forwards the core's warnings and errors to the
    ``temporalio.core`` logger instead, so the root handler that
    ``configure_logging`` sets up writes them as JSON. Each runtime starts a thread
    pool, so a process makes only one.
    """
    core_logger = logging.getLogger(CORE_LOGGER_NAME)
    service = structlog.contextvars.get_contextvars().get("service")
    if service is not None:
        # NOTE: a service name bound after the first call is not picked up.
        core_logger.addFilter(_BindService(service))
    forwarding = LogForwardingConfig(logger=core_logger)
    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=forwarding,
            )
        )
    )


async def connect_temporal(
    settings: PlatformSettings, wait_seconds: float = 60.0
) -> Client:
    """Connect on the process's runtime, which workers built on the client share.

    Waits up to ``wait_seconds`` for the server, so a process may start before it.
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return await Client.connect(
                settings.temporal_address,
                namespace=settings.temporal_namespace,
                data_converter=sealing_data_converter(),
                runtime=sdk_runtime(),
            )
        except RuntimeError as error:
            # The SDK raises RuntimeError("Failed client connect: ...").
            if time.monotonic() > deadline:
                raise
            log.warning(
                "temporal not reachable yet",
                address=settings.temporal_address,
                error=str(error),
            )
            await asyncio.sleep(1)


def exit_now(code: int) -> NoReturn:
    """Flush the standard streams and end the process without interpreter teardown.

    A short-lived process that used a Temporal client can abort during teardown with
    "PyGILState_Release: thread state ... must be current", because the SDK's Rust
    threads outlive the interpreter. Commands that finish with a client call this
    once their work is done.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)
