"""Run the application's processes under the local stack's supervisord.

``up`` writes ``.stack/programs/app.conf`` with the four services, the case
workers, the evidence workers and the insurer simulator in group ``app``. It applies
the file and waits until each process is ready. ``down`` stops and removes the
group. The processes read the ``DINGZE_*`` settings of the environment this script
runs in; ``DINGZE_CASE_WORKERS`` and ``DINGZE_EVIDENCE_WORKERS`` (1 each by
default) set how many workers of each kind run.
"""

import argparse
import hashlib
import os
import shlex
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from local_stack.config import REPO_ROOT, load_config, venv_tool
from local_stack.output import StackError, print_error
from local_stack.supervisor_control import Supervisor

GROUP = "app"
HTTP_SERVICES = {
    "intake": ("DINGZE_INTAKE_PORT", 8101),
    "liability": ("DINGZE_LIABILITY_PORT", 8102),
    "insurance": ("DINGZE_INSURANCE_PORT", 8103),
    "notify": ("DINGZE_NOTIFY_PORT", 8104),
}
# Each worker kind: its module, the line it logs once ready, and the variable that
# sets how many run.
WORKERS = {
    "case-worker": ("workflows.case", "case worker started", "DINGZE_CASE_WORKERS"),
    "evidence-worker": (
        "workflows.evidence",
        "evidence worker started",
        "DINGZE_EVIDENCE_WORKERS",
    ),
}
READY_SECONDS = 90.0
CODE_FOLDERS = (
    "common",
    "contracts",
    "decision_support",
    "documents",
    "evidence",
    "identity",
    "services",
    "simulators",
    "workflows",
)


def _count(variable: str) -> int:
    value = os.environ.get(variable, "1")
    if not value.isdigit() or int(value) < 1:
        raise StackError(f"{variable} must be a whole number ≥ 1, not {value!r}")
    return int(value)


def background_processes() -> dict[str, tuple[str, str]]:
    """Return each process without an HTTP port: its module and its ready line.

    A second and later worker of a kind get ``-2``, ``-3``… after the kind's name.
    """
    processes = {}
    for kind, (module, ready, variable) in WORKERS.items():
        for index in range(1, _count(variable) + 1):
            name = kind if index == 1 else f"{kind}-{index}"
            processes[name] = (module, ready)
    processes["insurer-simulator"] = ("simulators.insurer", "insurer simulator started")
    return processes


def _program(name: str, module: str, logs: Path) -> list[str]:
    settings = {
        key: value for key, value in os.environ.items() if key.startswith("DINGZE_")
    }
    environment = ",".join(
        f'{key}="{value.replace("%", "%%")}"' for key, value in sorted(settings.items())
    )
    lines = [
        f"[program:{name}]",
        f"command={shlex.join([venv_tool('python'), '-m', module])}",
        f"directory={REPO_ROOT}",
        "autostart=true",
        "autorestart=true",
        "startsecs=2",
        "stopwaitsecs=20",
        "redirect_stderr=true",
        f"stdout_logfile={logs / (name + '.log')}",
        "stdout_logfile_maxbytes=50MB",
        "stdout_logfile_backups=2",
    ]
    if environment:
        lines.append(f"environment={environment}")
    return lines


def code_fingerprint() -> str:
    """Return a hash of the application's Python files, to notice changed code."""
    digest = hashlib.sha256()
    for folder in CODE_FOLDERS:
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            digest.update(str(path.relative_to(REPO_ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def render(logs: Path) -> str:
    modules = {name: f"services.{name}" for name in HTTP_SERVICES}
    modules |= {name: module for name, (module, _) in background_processes().items()}
    lines = [
        "; Written by deploy/local/app_processes.py.",
        # A new fingerprint makes the file differ, so changed code is restarted.
        f"; code {code_fingerprint()}",
    ]
    for name, module in modules.items():
        lines += ["", *_program(name, module, logs)]
    lines += ["", f"[group:{GROUP}]", f"programs={','.join(modules)}"]
    return "\n".join(lines) + "\n"


def _http_ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/healthz", timeout=1
        ) as reply:
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _log_size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _log_contains(path: Path, text: str, offset: int) -> bool:
    if not path.exists():
        return False
    with path.open("rb") as file:
        file.seek(offset)
        return text.encode() in file.read()


def up() -> None:
    config = load_config()
    supervisor = Supervisor(config)
    if not supervisor.is_running():
        raise StackError("the stack is not running: run make stack-up first")
    conf = supervisor.programs_dir / "app.conf"
    expected = render(config.logs_dir)
    background = background_processes()
    states = supervisor.process_states()
    running = all(
        states.get(f"{GROUP}:{name}", {}).get("statename") == "RUNNING"
        for name in [*HTTP_SERVICES, *background]
    )
    if conf.exists() and conf.read_text() == expected and running:
        print("services: already running")
        return

    # Restart the whole group, so every process runs the current code and settings
    # and each readiness line is looked for only in what the new process logs.
    rpc = supervisor.rpc()
    if any(key.startswith(f"{GROUP}:") for key in states):
        rpc.supervisor.stopProcessGroup(GROUP)
        rpc.supervisor.removeProcessGroup(GROUP)
    conf.write_text(expected)
    rpc.supervisor.reloadConfig()
    rpc.supervisor.addProcessGroup(GROUP)
    offsets = {name: _log_size(config.logs_dir / f"{name}.log") for name in background}
    rpc.supervisor.startProcessGroup(GROUP, True)
    print("services: started, waiting until ready", flush=True)

    deadline = time.monotonic() + READY_SECONDS
    pending = set(HTTP_SERVICES) | set(background)
    while pending:
        for name in sorted(pending):
            if name in HTTP_SERVICES:
                variable, default = HTTP_SERVICES[name]
                ready = _http_ready(int(os.environ.get(variable, default)))
            else:
                log = config.logs_dir / f"{name}.log"
                ready = _log_contains(log, background[name][1], offsets[name])
            if ready:
                print(f"  {name:<18} ready", flush=True)
                pending.discard(name)
        if pending and time.monotonic() > deadline:
            logs = ", ".join(str(config.logs_dir / f"{name}.log") for name in pending)
            raise StackError(f"not ready after {READY_SECONDS:.0f} s: see {logs}")
        time.sleep(0.3)


def down() -> None:
    config = load_config()
    supervisor = Supervisor(config)
    if supervisor.is_running():
        groups = {info["group"] for info in supervisor.process_states().values()}
        if GROUP in groups:
            rpc = supervisor.rpc()
            rpc.supervisor.stopProcessGroup(GROUP)
            rpc.supervisor.removeProcessGroup(GROUP)
    (supervisor.programs_dir / "app.conf").unlink(missing_ok=True)
    print("services: stopped")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "down"])
    args = parser.parse_args()
    try:
        up() if args.command == "up" else down()
    except StackError as error:
        print_error(str(error))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
