"""The local stack's own commands, run against the stack this session started."""

import subprocess
import sys

import pytest

from tests.support.platform import ROOT

pytestmark = pytest.mark.integration
STACK = [sys.executable, str(ROOT / "deploy" / "local" / "stack.py")]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def test_second_stack_up_does_nothing() -> None:
    result = _run(*STACK, "up")

    assert result.returncode == 0, result.stderr
    assert "already running and ready, nothing to do" in result.stdout


def test_stack_status_lists_every_engine_ready() -> None:
    result = _run(*STACK, "status")

    assert result.returncode == 0, result.stdout
    for engine in ("kafka", "postgres", "seaweedfs", "temporal"):
        line = next(line for line in result.stdout.splitlines() if f":{engine}" in line)
        assert "RUNNING" in line
        assert "[ready]" in line


def test_engines_answer_the_application_clients() -> None:
    result = _run(sys.executable, str(ROOT / "deploy" / "local" / "smoke_check.py"))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "kafka: produced and consumed one message" in result.stdout
    assert "s3: wrote and read" in result.stdout
    assert "rejected" in result.stdout
