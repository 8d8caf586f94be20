"""PostgreSQL 15 from Debian's binaries, listening on 127.0.0.1 only."""

import hashlib
import os
import pwd
import shutil
import subprocess
from pathlib import Path

from .config import HOST, StackConfig
from .engine import Engine, Program
from .output import fail, step

BIN_DIR = Path("/usr/lib/postgresql/15/bin")
APT_PACKAGE = "postgresql-15"
# Data directories that the postgres user cannot reach inside the work tree go here.
OUTSIDE_DATA_ROOT = Path("/var/lib/dingze-local")
DATABASE = "dingze"
ROLE = "dingze"
SERVICE_ROLES = tuple(
    f"dingze_{service}"
    for service in ("intake", "liability", "insurance", "notify", "case_worker")
)
SUPERUSER = "postgres"


def _run(command: list[str], action: str, user: str | None = None) -> str:
    if user is not None:
        command = ["runuser", "-u", user, "--", *command]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        fail(
            f"{action} failed (exit {result.returncode}): {' '.join(command)}\n"
            f"{result.stdout}{result.stderr}"
        )
    return result.stdout


def _install_binaries() -> None:
    if (BIN_DIR / "postgres").exists():
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        fail(
            f"PostgreSQL 15 is missing ({BIN_DIR}/postgres not found): "
            f"install the Debian package {APT_PACKAGE} as root"
        )
    step(f"postgres: installing {APT_PACKAGE} with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", APT_PACKAGE],
    ):
        result = subprocess.run(
            command, env=env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            fail(
                f"{' '.join(command)} failed (exit {result.returncode}):\n"
                f"{result.stderr}"
            )


def _server_user() -> str | None:
    """Return the system user that runs postgres when this runs as root, else None.

    PostgreSQL refuses to start as root.
    """
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SUPERUSER)
    except KeyError:
        step(f"postgres: creating the system user {SUPERUSER}")
        _run(
            [
                "useradd",
                "--system",
                "--user-group",
                "--home-dir",
                "/var/lib/postgresql",
                "--shell",
                "/usr/sbin/nologin",
                SUPERUSER,
            ],
            "useradd",
        )
    return SUPERUSER


def _chown(path: Path, user: str | None) -> None:
    if user is not None:
        shutil.chown(path, user, user)


class Postgres(Engine):
    name = "postgres"
    port_names = ("DINGZE_PG_PORT",)
    start_timeout = 60.0

    def __init__(self, config: StackConfig) -> None:
        super().__init__(config)
        self.user = _server_user()

    @property
    def link(self) -> Path:
        return self.config.stack_dir / "postgres"

    @property
    def data_dir(self) -> Path:
        return self.link.resolve() / "data"

    def prepare(self) -> None:
        _install_binaries()
        self._make_data_root()
        self._init_cluster()

    def _make_data_root(self) -> None:
        if self.link.exists():
            return
        self.link.mkdir(parents=True)
        _chown(self.link, self.user)
        if self.user is None or self._user_can_write(self.link):
            return

        # A work tree under a private folder such as /root is out of the postgres
        # user's reach, so the data goes outside and .stack/postgres links to it.
        self.link.rmdir()
        key = hashlib.sha256(str(self.link).encode()).hexdigest()[:12]
        outside = OUTSIDE_DATA_ROOT / key / "postgres"
        # Data left there belongs to a .stack folder that has since been removed.
        shutil.rmtree(outside, ignore_errors=True)
        outside.mkdir(parents=True)
        _chown(outside, self.user)
        self.link.symlink_to(outside)
        step(
            f"postgres: user {self.user} cannot reach {self.link}, "
            f"so its data goes to {outside}"
        )

    def _user_can_write(self, path: Path) -> bool:
        command = ["runuser", "-u", str(self.user), "--", "test", "-w", str(path)]
        return subprocess.run(command, check=False).returncode == 0

    def _init_cluster(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        step("postgres: initdb")
        # An initdb that stopped half way leaves files that make the next one fail.
        shutil.rmtree(self.data_dir, ignore_errors=True)
        _run(
            [
                str(BIN_DIR / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-instructions",
            ],
            "initdb",
            self.user,
        )

        # Trust authentication is for local development only. It covers TCP from
        # 127.0.0.1, and the server opens no Unix socket.
        hba = self.data_dir / "pg_hba.conf"
        hba.write_text(
            "# TYPE  DATABASE  USER  ADDRESS       METHOD\n"
            "host    all       all   127.0.0.1/32  trust\n"
        )
        _chown(hba, self.user)

    def program(self) -> Program:
        command = [
            str(BIN_DIR / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.config.port("DINGZE_PG_PORT")),
            "-c",
            f"listen_addresses={HOST}",
            "-c",
            "unix_socket_directories=",
            "-c",
            "logging_collector=off",
        ]
        # SIGINT requests PostgreSQL's fast shutdown, which ends the sessions and
        # writes a checkpoint.
        return Program(
            self.name,
            command,
            priority=10,
            user=self.user,
            directory=self.data_dir,
            stop_signal="INT",
        )

    def _psql(
        self, user: str, database: str, sql: str
    ) -> subprocess.CompletedProcess[str]:
        command = [
            str(BIN_DIR / "psql"),
            "-h",
            HOST,
            "-p",
            str(self.config.port("DINGZE_PG_PORT")),
            "-U",
            user,
            "-d",
            database,
            "-X",
            "-q",
            "-tA",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ]
        env = {**os.environ, "PGCONNECT_TIMEOUT": "3"}
        return subprocess.run(
            command, env=env, capture_output=True, text=True, check=False
        )

    def responds(self) -> bool:
        # The superuser and its database exist from initdb on, so this probe does
        # not log "role does not exist" before finish() creates the dingze role.
        command = [
            str(BIN_DIR / "pg_isready"),
            "-q",
            "-h",
            HOST,
            "-p",
            str(self.config.port("DINGZE_PG_PORT")),
            "-U",
            SUPERUSER,
            "-d",
            "postgres",
            "-t",
            "2",
        ]
        return subprocess.run(command, check=False).returncode == 0

    def is_ready(self) -> bool:
        # A role added to SERVICE_ROLES later makes a running stack not ready, so
        # the next stack-up runs finish() and creates it.
        roles = ", ".join(f"'{role}'" for role in SERVICE_ROLES)
        result = self._psql(
            ROLE, DATABASE, f"SELECT count(*) FROM pg_roles WHERE rolname IN ({roles})"
        )
        return result.returncode == 0 and result.stdout.strip() == str(
            len(SERVICE_ROLES)
        )

    def finish(self) -> None:
        if not self._exists(f"SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}'"):
            step(f"postgres: creating role {ROLE}")
            self._superuser_sql(f"CREATE ROLE {ROLE} LOGIN CREATEDB")

        if not self._exists(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"):
            step(f"postgres: creating database {DATABASE}")
            self._superuser_sql(f"CREATE DATABASE {DATABASE} OWNER {ROLE}")

        # Each service logs in with a role of its own, which the migrations grant
        # the use of that service's schema and nothing else.
        for role in SERVICE_ROLES:
            if not self._exists(f"SELECT 1 FROM pg_roles WHERE rolname = '{role}'"):
                step(f"postgres: creating role {role}")
                self._superuser_sql(f"CREATE ROLE {role} LOGIN")

    def _superuser_sql(self, sql: str) -> str:
        result = self._psql(SUPERUSER, "postgres", sql)
        if result.returncode != 0:
            fail(
                f"psql failed (exit {result.returncode}) on {sql!r}: "
                f"{result.stderr.strip()}"
            )
        return result.stdout

    def _exists(self, sql: str) -> bool:
        return self._superuser_sql(sql).strip() == "1"
