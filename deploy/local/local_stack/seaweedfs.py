"""SeaweedFS S3: `weed mini` runs master, volume, filer and S3 in one process."""

import json
from pathlib import Path

import urllib3
from minio import Minio
from minio.error import S3Error

from .config import HOST, venv_tool
from .engine import Engine, Program
from .output import step

# Longest Unix socket path that fits sockaddr_un on Linux (108 bytes with the NUL).
MAX_SOCKET_PATH = 107


class SeaweedFS(Engine):
    name = "seaweedfs"
    port_names = (
        "DINGZE_S3_PORT",
        "DINGZE_WEED_MASTER_PORT",
        "DINGZE_WEED_MASTER_GRPC_PORT",
        "DINGZE_WEED_VOLUME_PORT",
        "DINGZE_WEED_VOLUME_GRPC_PORT",
        "DINGZE_WEED_FILER_PORT",
        "DINGZE_WEED_FILER_GRPC_PORT",
        "DINGZE_WEED_S3_GRPC_PORT",
        "DINGZE_WEED_ADMIN_PORT",
        "DINGZE_WEED_ADMIN_PORT + 10000",
    )
    start_timeout = 60.0

    @property
    def home(self) -> Path:
        return self.config.stack_dir / "seaweedfs"

    @property
    def s3_config_file(self) -> Path:
        return self.home / "s3.json"

    def prepare(self) -> None:
        (self.home / "data").mkdir(parents=True, exist_ok=True)

        # With an identity configured, SeaweedFS rejects anonymous and wrongly
        # signed requests (AccessDenied, SignatureDoesNotMatch).
        identity = {
            "name": self.config.s3_access_key,
            "credentials": [
                {
                    "accessKey": self.config.s3_access_key,
                    "secretKey": self.config.s3_secret_key,
                }
            ],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
        }
        self.s3_config_file.touch(mode=0o600)
        self.s3_config_file.write_text(json.dumps({"identities": [identity]}, indent=2))

    def program(self) -> Program:
        port = self.config.port
        flags = {
            "dir": self.home / "data",
            "ip": HOST,
            "ip.bind": HOST,
            "master.port": port("DINGZE_WEED_MASTER_PORT"),
            "master.port.grpc": port("DINGZE_WEED_MASTER_GRPC_PORT"),
            # The default sends usage statistics to an outside host.
            "master.telemetry": "false",
            "volume.port": port("DINGZE_WEED_VOLUME_PORT"),
            "volume.port.grpc": port("DINGZE_WEED_VOLUME_GRPC_PORT"),
            "filer.port": port("DINGZE_WEED_FILER_PORT"),
            "filer.port.grpc": port("DINGZE_WEED_FILER_GRPC_PORT"),
            "s3.port": port("DINGZE_S3_PORT"),
            "s3.port.grpc": port("DINGZE_WEED_S3_GRPC_PORT"),
            "s3.config": self.s3_config_file,
            "s3.port.iceberg": 0,
            "s3.port.lance": 0,
            "webdav": "false",
            # admin.ui=false hides the pages, but the admin server, which runs the
            # maintenance worker (vacuum, balance), still listens (weed 4.48).
            "admin.ui": "false",
            "admin.port": port("DINGZE_WEED_ADMIN_PORT"),
            "admin.port.grpc": port("DINGZE_WEED_ADMIN_PORT + 10000"),
        }
        # The sockets default to /tmp/seaweedfs-*-<port>.sock.
        for component in ("filer", "s3"):
            socket_path = self.home / f"{component}.sock"
            if len(str(socket_path)) <= MAX_SOCKET_PATH:
                flags[f"{component}.localSocket"] = socket_path

        command = [
            venv_tool("weed"),
            "mini",
            *(f"-{key}={value}" for key, value in flags.items()),
        ]
        return Program(self.name, command, priority=20, directory=self.home)

    def _client(self) -> Minio:
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=2, read=5), retries=False
        )
        return Minio(
            f"{HOST}:{self.config.port('DINGZE_S3_PORT')}",
            access_key=self.config.s3_access_key,
            secret_key=self.config.s3_secret_key,
            secure=False,
            http_client=http,
        )

    def _bucket_exists(self) -> bool | None:
        """Return whether the bucket exists, or None when S3 does not respond."""
        try:
            return self._client().bucket_exists(self.config.s3_bucket)
        except (S3Error, urllib3.exceptions.HTTPError, OSError):
            return None

    def responds(self) -> bool:
        return self._bucket_exists() is not None

    def is_ready(self) -> bool:
        return self._bucket_exists() is True

    def finish(self) -> None:
        if self._bucket_exists() is False:
            step(f"seaweedfs: creating bucket {self.config.s3_bucket}")
            self._client().make_bucket(self.config.s3_bucket)
