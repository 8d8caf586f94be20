"""The services and the local stack's engines listen on 127.0.0.1 by default."""

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from pydantic_settings import BaseSettings

from services.insurance.settings import InsuranceSettings
from services.intake.settings import IntakeSettings
from services.liability.settings import LiabilitySettings
from services.notify.settings import NotifySettings

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"
SERVICE_SETTINGS: dict[str, type[BaseSettings]] = {
    "intake": IntakeSettings,
    "liability": LiabilitySettings,
    "insurance": InsuranceSettings,
    "notify": NotifySettings,
}


@pytest.fixture(scope="module")
def local_stack() -> Iterator[ModuleType]:
    """Import ``deploy/local/local_stack``, which ``deploy/local/stack.py`` runs."""
    sys.path.insert(0, str(ROOT / "deploy" / "local"))
    try:
        yield importlib.import_module("local_stack")
    finally:
        sys.path.remove(str(ROOT / "deploy" / "local"))


@pytest.fixture
def stack_config(local_stack: ModuleType, tmp_path: Path) -> object:
    config = importlib.import_module("local_stack.config")
    loaded = config.load_config()
    return type(loaded)(
        ports=loaded.ports,
        s3_access_key=loaded.s3_access_key,
        s3_secret_key=loaded.s3_secret_key,
        s3_bucket=loaded.s3_bucket,
        stack_dir=tmp_path,
    )


def _command(local_stack: ModuleType, module: str, name: str, config: object) -> str:
    engine = getattr(importlib.import_module(f"local_stack.{module}"), name)(config)
    return " ".join(str(part) for part in engine.program().command)


@pytest.mark.parametrize("service", SERVICE_SETTINGS)
def test_service_host_defaults_to_loopback(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(f"DINGZE_{service.upper()}_HOST", raising=False)

    settings = SERVICE_SETTINGS[service]()

    assert getattr(settings, f"{service}_host") == LOOPBACK


def test_stack_host_is_loopback(local_stack: ModuleType) -> None:
    assert importlib.import_module("local_stack.config").HOST == LOOPBACK


def test_postgres_listens_on_loopback(
    local_stack: ModuleType, stack_config: object
) -> None:
    command = _command(local_stack, "postgres", "Postgres", stack_config)

    assert f"listen_addresses={LOOPBACK}" in command
    assert "unix_socket_directories= " in command


def test_seaweedfs_binds_loopback(
    local_stack: ModuleType, stack_config: object
) -> None:
    command = _command(local_stack, "seaweedfs", "SeaweedFS", stack_config).split()

    assert f"-ip={LOOPBACK}" in command
    assert f"-ip.bind={LOOPBACK}" in command


def test_temporal_binds_loopback(local_stack: ModuleType, stack_config: object) -> None:
    command = _command(local_stack, "temporal", "Temporal", stack_config).split()

    assert command[command.index("--ip") + 1] == LOOPBACK
    assert command[command.index("--ui-ip") + 1] == LOOPBACK


def test_kafka_listeners_are_loopback(
    local_stack: ModuleType, stack_config: object
) -> None:
    kafka = importlib.import_module("local_stack.kafka").Kafka(stack_config)

    kafka._write_properties()
    properties = dict(
        line.split("=", 1)
        for line in kafka.properties_file.read_text().splitlines()
        if line and not line.startswith("#")
    )

    for key in ("listeners", "advertised.listeners"):
        for listener in properties[key].split(","):
            host = listener.split("://", 1)[1].rsplit(":", 1)[0]
            assert host == LOOPBACK, f"{key}: {listener}"
    assert properties["controller.quorum.voters"].split("@")[1].startswith(LOOPBACK)


def test_no_engine_binds_every_address(
    local_stack: ModuleType, stack_config: object
) -> None:
    engines = {
        "postgres": "Postgres",
        "seaweedfs": "SeaweedFS",
        "temporal": "Temporal",
        "kafka": "Kafka",
    }

    for module, name in engines.items():
        command = _command(local_stack, module, name, stack_config)
        assert "0.0.0.0" not in command, f"{name}: {command}"
        assert "[::]" not in command, f"{name}: {command}"


def test_supervisord_serves_only_a_unix_socket(
    local_stack: ModuleType, stack_config: object
) -> None:
    control = importlib.import_module("local_stack.supervisor_control")
    supervisor = control.Supervisor(stack_config)

    rendered = supervisor.render_config([])

    assert "[unix_http_server]" in rendered
    assert "[inet_http_server]" not in rendered
