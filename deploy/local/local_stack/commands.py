"""The stack commands: up, down, status and env."""

import subprocess
import time
from pathlib import Path

from .config import HOST, REPO_ROOT, StackConfig, venv_tool
from .engine import Engine, port_is_free
from .kafka import Kafka
from .output import StackError, fail, step
from .postgres import Postgres
from .seaweedfs import SeaweedFS
from .supervisor_control import GROUP, Supervisor
from .temporal import Temporal

LOG_TAIL_LINES = 30


def make_engines(config: StackConfig) -> list[Engine]:
    return [Postgres(config), SeaweedFS(config), Temporal(config), Kafka(config)]


def _log_tail(path: Path) -> str:
    if not path.exists():
        return f"(no log at {path})"
    lines = path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
    return f"last lines of {path}:\n" + "\n".join(lines)


def _wait_until_ready(
    config: StackConfig, supervisor: Supervisor, engines: list[Engine]
) -> None:
    """Poll each engine until it responds, then run its finish step.

    Fails when an engine crashes or is not ready within its start timeout.
    """
    started = time.monotonic()
    pending = list(engines)
    while pending:
        for engine in list(pending):
            log = config.logs_dir / f"{engine.name}.log"
            state = supervisor.engine_state(engine.name)
            if state in ("FATAL", "EXITED", "STOPPED"):
                fail(f"{engine.name} is {state} instead of running.\n{_log_tail(log)}")
            # supervisord reports RUNNING only after startsecs, but a server may
            # respond sooner.
            if state in ("STARTING", "RUNNING") and engine.responds():
                engine.finish()
                if engine.is_ready():
                    step(f"{engine.name}: ready")
                    pending.remove(engine)
                    continue
            if time.monotonic() - started > engine.start_timeout:
                fail(
                    f"{engine.name} was not ready within {engine.start_timeout:.0f} s "
                    f"(supervisord state {state}).\n{_log_tail(log)}"
                )
        if pending:
            time.sleep(0.5)


def _check_ports_free(config: StackConfig, engines: list[Engine]) -> None:
    busy = [
        f"{name}={config.port(name)}"
        for engine in engines
        for name in engine.port_names
        if not port_is_free(config.port(name))
    ]
    if busy:
        fail(
            "ports already in use by another process: "
            + ", ".join(busy)
            + ". Stop that process or set the variables to free ports."
        )


def _ensure_signing_key(config: StackConfig) -> None:
    """Create the local identity provider's signing key once; it is never committed."""
    command = [venv_tool("python"), "-m", "identity", "new-signing-key"]
    result = subprocess.run(
        [*command, str(config.signing_key_file)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise StackError(f"creating the token signing key failed: {result.stderr}")


def up(config: StackConfig) -> None:
    supervisor = Supervisor(config)
    engines = make_engines(config)
    _ensure_signing_key(config)

    if supervisor.is_running():
        _resume(config, supervisor, engines)
        return

    _check_ports_free(config, engines)
    for engine in engines:
        engine.prepare()
    supervisor.write_config([engine.program() for engine in engines])
    step(f"starting supervisord ({supervisor.config_file})")
    supervisor.start_daemon()
    _wait_until_ready(config, supervisor, engines)
    step("stack is up")
    print_summary(config)


def _resume(config: StackConfig, supervisor: Supervisor, engines: list[Engine]) -> None:
    """Start the engines that are not running under an already running supervisord."""
    if supervisor.config_differs([engine.program() for engine in engines]):
        step(
            "warning: the settings differ from those of the running stack; "
            "run `make stack-down stack-up` to apply them"
        )

    stopped = [
        engine
        for engine in engines
        if supervisor.engine_state(engine.name) not in ("RUNNING", "STARTING")
    ]
    if not stopped and all(engine.is_ready() for engine in engines):
        step("stack already running and ready, nothing to do")
        return

    for engine in stopped:
        step(f"{engine.name}: starting (was {supervisor.engine_state(engine.name)})")
        engine.prepare()
        supervisor.start_engine(engine.name)
    _wait_until_ready(config, supervisor, engines)
    step("stack is up")


def down(config: StackConfig) -> None:
    supervisor = Supervisor(config)
    if not supervisor.is_running():
        step("stack is not running, nothing to stop")
        return
    step("stopping all programs and supervisord")
    supervisor.shutdown()
    step("stack is down")


def status(config: StackConfig) -> bool:
    """Print the state of supervisord and each program.

    Returns whether all engines are ready.
    """
    supervisor = Supervisor(config)
    if not supervisor.is_running():
        print("supervisord: not running")
        return False

    print(f"supervisord: running (config {supervisor.config_file})")
    engines = {f"{GROUP}:{engine.name}": engine for engine in make_engines(config)}
    all_ready = True
    for full_name, info in sorted(supervisor.process_states().items()):
        line = f"  {full_name:24} {info['statename']:9} {info['description']}"
        engine = engines.get(full_name)
        if engine is not None:
            ready = info["statename"] == "RUNNING" and engine.is_ready()
            all_ready = all_ready and ready
            line += "  [ready]" if ready else "  [not ready]"
        print(line)
    return all_ready


def print_summary(config: StackConfig) -> None:
    settings = config.client_settings()
    ui_port = config.port("DINGZE_TEMPORAL_UI_PORT")
    print(f"  Kafka bootstrap   {settings['DINGZE_KAFKA_BOOTSTRAP']}")
    print(f"  PostgreSQL        {settings['DINGZE_DATABASE_URL']}")
    print(
        f"  S3 endpoint       http://{settings['DINGZE_S3_ENDPOINT']} "
        f"(bucket {settings['DINGZE_S3_BUCKET']})"
    )
    print(f"  Temporal          {settings['DINGZE_TEMPORAL_ADDRESS']}")
    print(f"  Temporal web UI   http://{HOST}:{ui_port}")
    print("  Client settings:  deploy/local/stack.py env")


def print_env(config: StackConfig) -> None:
    """Print the client settings as shell export lines, secret key included."""
    for key, value in config.client_settings().items():
        print(f"export {key}={value}")
