"""Integration tests run against the real local stack (``make stack-up``)."""

import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from common.migrate import migrate
from common.settings import PlatformSettings
from common.temporal import connect_temporal
from demo.client import PlatformClient
from evidence.sample_video import write_walkaround_video
from tests.support.platform import ROOT, PlatformProcesses

pytestmark = pytest.mark.integration


def _reachable(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def settings() -> PlatformSettings:
    settings = PlatformSettings()
    for name, address in {
        "Kafka": settings.kafka_bootstrap,
        "Temporal": settings.temporal_address,
        "object storage": settings.s3_endpoint,
        "PostgreSQL": settings.database_url.rsplit("@", 1)[1].split("/")[0],
    }.items():
        if not _reachable(address):
            pytest.fail(
                f"{name} is not reachable at {address}; "
                "start the stack with make stack-up"
            )
    migrate(settings.database_url)
    return settings


@pytest.fixture(scope="session")
def platform(
    settings: PlatformSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PlatformProcesses]:
    log_dir = ROOT / ".stack" / "test-logs" / tmp_path_factory.getbasetemp().name
    processes = PlatformProcesses.create(log_dir)
    processes.start_all()
    yield processes
    processes.stop_all()


@pytest.fixture
async def client(platform: PlatformProcesses) -> AsyncIterator[PlatformClient]:
    async with httpx.AsyncClient(timeout=60) as http:
        yield PlatformClient(platform.urls, http)


@pytest.fixture
async def temporal(settings: PlatformSettings) -> Client:
    return await connect_temporal(settings)


@pytest.fixture(scope="session")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_walkaround_video(
        tmp_path_factory.mktemp("video") / "scene.mp4", seconds=8
    )
