"""Ports, paths and credentials of the local stack, read from the environment."""

import os
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
DEPLOY_DIR = REPO_ROOT / "deploy" / "local"

# Server ports: environment variable and default. The 18xxx/19xxx defaults keep
# clear of the engines' own defaults (5432, 7233, 8080, 8333, 8888, 9092, 9333).
PORT_DEFAULTS = {
    "DINGZE_KAFKA_PORT": 19092,
    "DINGZE_KAFKA_CONTROLLER_PORT": 19093,
    "DINGZE_PG_PORT": 15432,
    "DINGZE_S3_PORT": 18333,
    "DINGZE_WEED_MASTER_PORT": 18340,
    "DINGZE_WEED_MASTER_GRPC_PORT": 18341,
    "DINGZE_WEED_VOLUME_PORT": 18342,
    "DINGZE_WEED_VOLUME_GRPC_PORT": 18343,
    "DINGZE_WEED_FILER_PORT": 18344,
    "DINGZE_WEED_FILER_GRPC_PORT": 18345,
    "DINGZE_WEED_S3_GRPC_PORT": 18346,
    "DINGZE_WEED_ADMIN_PORT": 18347,
    "DINGZE_TEMPORAL_PORT": 17233,
    "DINGZE_TEMPORAL_UI_PORT": 18233,
    "DINGZE_TEMPORAL_HTTP_PORT": 17243,
    "DINGZE_TEMPORAL_METRICS_PORT": 17244,
}

HOST = "127.0.0.1"


class ConfigError(Exception):
    """Invalid stack setting in the environment."""


def venv_tool(name: str) -> str:
    """Return the path of a program in the virtual environment that runs this script."""
    path = Path(sys.prefix) / "bin" / name
    if not path.exists():
        raise ConfigError(
            f"{path} not found: run `make venv` to install the dev dependencies"
        )
    return str(path)


def _read_port(name: str) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return PORT_DEFAULTS[name]
    try:
        port = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise ConfigError(f"{name}={port} is outside 1-65535")
    return port


@dataclass(frozen=True)
class StackConfig:
    """Settings shared by every engine of the stack."""

    ports: dict[str, int]
    s3_access_key: str
    s3_secret_key: str
    s3_bucket: str
    stack_dir: Path = REPO_ROOT / ".stack"

    def port(self, name: str) -> int:
        return self.ports[name]

    @property
    def logs_dir(self) -> Path:
        return self.stack_dir / "logs"

    @property
    def signing_key_file(self) -> Path:
        """The local identity provider's token signing key, made by ``up``."""
        return self.stack_dir / "identity" / "token-signing-key.pem"

    def client_settings(self) -> dict[str, str]:
        """Return the DINGZE_* client settings that match the server ports."""
        pg_port = self.port("DINGZE_PG_PORT")
        return {
            "DINGZE_KAFKA_BOOTSTRAP": f"{HOST}:{self.port('DINGZE_KAFKA_PORT')}",
            "DINGZE_DATABASE_URL": f"postgresql://dingze@{HOST}:{pg_port}/dingze",
            "DINGZE_S3_ENDPOINT": f"{HOST}:{self.port('DINGZE_S3_PORT')}",
            "DINGZE_S3_ACCESS_KEY": self.s3_access_key,
            "DINGZE_S3_SECRET_KEY": self.s3_secret_key,
            "DINGZE_S3_BUCKET": self.s3_bucket,
            "DINGZE_TEMPORAL_ADDRESS": f"{HOST}:{self.port('DINGZE_TEMPORAL_PORT')}",
            "DINGZE_IDENTITY_SIGNING_KEY_FILE": str(self.signing_key_file),
        }


def load_config() -> StackConfig:
    """Read the stack settings from the environment, with the documented defaults."""
    ports = {name: _read_port(name) for name in PORT_DEFAULTS}

    # weed mini's maintenance worker dials the admin server's gRPC port at the admin
    # HTTP port + 10000 whatever -admin.port.grpc sets (weed 4.48), so it is derived.
    ports["DINGZE_WEED_ADMIN_PORT + 10000"] = ports["DINGZE_WEED_ADMIN_PORT"] + 10000
    if ports["DINGZE_WEED_ADMIN_PORT + 10000"] > 65535:
        raise ConfigError(
            "DINGZE_WEED_ADMIN_PORT must be at most 55535, "
            "because its gRPC port is 10000 higher"
        )

    by_port: dict[int, str] = {}
    for name, port in ports.items():
        if port in by_port:
            raise ConfigError(f"{name} and {by_port[port]} both use port {port}")
        by_port[port] = name

    return StackConfig(
        ports=ports,
        s3_access_key=os.environ.get("DINGZE_S3_ACCESS_KEY", "dingze"),
        s3_secret_key=os.environ.get("DINGZE_S3_SECRET_KEY", "dingze-local-secret"),
        s3_bucket=os.environ.get("DINGZE_S3_BUCKET", "dingze-evidence"),
    )
