"""Integration tests run against the real local stack (``make stack-up``)."""

import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from common.migrate import SERVICE_SCHEMAS, migrate
from common.settings import PlatformSettings
from common.temporal import connect_temporal
from demo.client import (
    LOCAL_AUXILIARY,
    LOCAL_OFFICER,
    LOCAL_OPERATOR,
    PlatformClient,
    bearer,
)
from evidence.sample_video import write_walkaround_video
from identity.tokens import create_signing_key
from tests.support.insurers import IMMEDIATE_INSURERS, SIMULATED_INSURERS
from tests.support.platform import (
    ROOT,
    PlatformProcesses,
    SessionDatabase,
    new_run_id,
)

pytestmark = pytest.mark.integration


def _reachable(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def run_id() -> str:
    """Suffix of the session's database, topic prefix and task queue."""
    return new_run_id()


def _check_stack_reachable(settings: PlatformSettings) -> None:
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


def _check_no_service_database_urls() -> None:
    for schema in SERVICE_SCHEMAS:
        variable = f"DINGZE_{schema.upper()}_DATABASE_URL"
        if os.environ.get(variable):
            pytest.fail(
                f"{variable} is set, but the integration tests derive each "
                "service's URL from their own database; unset it"
            )


@pytest.fixture(scope="session")
def settings(run_id: str) -> Iterator[PlatformSettings]:
    """Yield the stack's settings pointed at a fresh, migrated session database.

    The demo's services keep the database of ``DINGZE_DATABASE_URL``, so the
    cases the tests create never reach the demo's officer queue.
    """
    stack_settings = PlatformSettings()
    _check_stack_reachable(stack_settings)
    _check_no_service_database_urls()
    database = SessionDatabase(stack_settings.database_url, f"dingze_test_{run_id}")
    database.create()
    try:
        migrate(database.url)
        yield stack_settings.model_copy(update={"database_url": database.url})
    finally:
        database.drop()


@pytest.fixture(scope="session")
def platform(
    settings: PlatformSettings, run_id: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PlatformProcesses]:
    log_dir = ROOT / ".stack" / "test-logs" / tmp_path_factory.getbasetemp().name
    signing_key = tmp_path_factory.mktemp("identity") / "token-signing-key.pem"
    create_signing_key(signing_key)
    processes = PlatformProcesses.create(
        log_dir, run_id, settings.database_url, signing_key
    )
    processes.env["DINGZE_SIMULATED_INSURERS"] = ",".join(SIMULATED_INSURERS)
    processes.env["DINGZE_SIMULATED_IMMEDIATE_INSURERS"] = ",".join(IMMEDIATE_INSURERS)
    try:
        processes.start_all()
        yield processes
    finally:
        # Stops what started even when a process failed to come up.
        processes.stop_all()


@pytest.fixture(scope="session")
def scene_and_support_headers(
    platform: PlatformProcesses,
) -> dict[str, dict[str, str]]:
    """Bearer headers of the auxiliary officer (intake) and the operator (notify).

    Signed in once per session: scrypt makes each sign-in cost CPU time.
    """
    headers = {}
    for service, (username, password) in {
        "intake": LOCAL_AUXILIARY,
        "notify": LOCAL_OPERATOR,
    }.items():
        response = httpx.post(
            f"{platform.urls.liability}/auth/sign-in",
            json={"username": username, "password": password},
            timeout=60,
        )
        response.raise_for_status()
        headers[service] = bearer(response.json()["access_token"])
    return headers


def _with_scene_and_support(
    client: PlatformClient, headers: dict[str, dict[str, str]]
) -> PlatformClient:
    client.intake_headers = headers["intake"]
    client.notify_headers = headers["notify"]
    return client


@pytest.fixture
async def client(
    platform: PlatformProcesses, scene_and_support_headers: dict[str, dict[str, str]]
) -> AsyncIterator[PlatformClient]:
    """The first officer, an auxiliary officer and an operator, signed in."""
    async with httpx.AsyncClient(timeout=60) as http:
        client = PlatformClient(platform.urls, http)
        await client.sign_in(*LOCAL_OFFICER)
        yield _with_scene_and_support(client, scene_and_support_headers)


@pytest.fixture
async def other_officer(
    platform: PlatformProcesses, scene_and_support_headers: dict[str, dict[str, str]]
) -> AsyncIterator[PlatformClient]:
    """A second officer (badge 330199), signed in, with the same helpers."""
    async with httpx.AsyncClient(timeout=60) as http:
        client = PlatformClient(platform.urls, http)
        await client.sign_in("officer2", "officer2-local")
        yield _with_scene_and_support(client, scene_and_support_headers)


@pytest.fixture
async def temporal(settings: PlatformSettings) -> Client:
    return await connect_temporal(settings)


@pytest.fixture(scope="session")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_walkaround_video(
        tmp_path_factory.mktemp("video") / "scene.mp4", seconds=8
    )
