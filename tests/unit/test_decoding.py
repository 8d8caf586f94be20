"""The evidence worker's decoding processes: results, crashes, and no orphans."""

import os
import subprocess
import sys
import time

import psutil
import pytest

from tests.support.platform import ROOT
from workflows.evidence.decoding import Decoder, DecodingProcessEndedError

# Starts a decoder in its own process, prints the decoding process's pid and waits.
WORKER_SCRIPT = """
import asyncio, os, sys
from workflows.evidence.decoding import Decoder

async def main():
    decoder = Decoder(1)
    print(await decoder.run(os.getpid), flush=True)
    sys.stdin.read()

asyncio.run(main())
"""


def _ended(pid: int, wait_seconds: float) -> bool:
    """Wait until the process is gone or a zombie, at most ``wait_seconds``."""
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


async def test_decoder_runs_function_in_other_process() -> None:
    decoder = Decoder(1)
    try:
        pid = await decoder.run(os.getpid)
    finally:
        decoder.shutdown()

    assert pid != os.getpid()


async def test_decoder_replaces_pool_after_crash() -> None:
    decoder = Decoder(1)
    try:
        with pytest.raises(DecodingProcessEndedError):
            await decoder.run(os._exit, 3)
        pid = await decoder.run(os.getpid)
    finally:
        decoder.shutdown()

    assert pid != os.getpid()


async def test_decoder_in_threads_when_no_processes() -> None:
    decoder = Decoder(0)

    pid = await decoder.run(os.getpid)

    assert pid == os.getpid()


def test_decoding_process_ends_with_killed_worker() -> None:
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER_SCRIPT],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout is not None
        decoding_pid = int(worker.stdout.readline())
        alive_before = psutil.pid_exists(decoding_pid)
    finally:
        worker.kill()
        worker.wait(timeout=30)

    assert alive_before
    assert _ended(decoding_pid, wait_seconds=30)
