"""The executor in which the evidence checks decode video: processes or threads.

An examination runs Python code, numpy and FFmpeg calls, and only parts of it
release the interpreter lock. A pool of processes runs examinations on every core
it is given whatever the lock does, leaves the worker's event loop free for
heartbeats and the outbox, and a decoder that crashes on a malformed file ends
only its own process.
"""

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

import structlog

log = structlog.get_logger(__name__)
Result = TypeVar("Result")


PARENT_CHECK_SECONDS = 1.0


def exit_with_parent(parent_pid: int) -> None:
    """End this decoding process once the worker that started it is gone.

    Runs in each pool process as it starts. A pool process holds its own copy of
    the pool's queues, so without this it would wait for work forever after its
    worker was killed or stopped.
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class DecodingProcessEndedError(RuntimeError):
    """A decoding process ended before it returned; the activity is retried."""


class Decoder:
    """Runs CPU-bound functions in ``processes`` processes, or in threads when 0.

    The processes start with ``spawn``: forking a process that runs the Temporal
    SDK's threads could copy a lock that one of them holds.
    """

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        if processes:
            self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=exit_with_parent,
            initargs=(os.getpid(),),
        )

    async def run(self, function: Callable[..., Result], *args: Any) -> Result:
        """Run ``function(*args)`` off the event loop and return its result.

        Raises DecodingProcessEndedError when the process running it died, after
        replacing the broken pool so that the retry finds a working one.
        """
        loop = asyncio.get_running_loop()
        pool = self._pool
        try:
            return await loop.run_in_executor(pool, function, *args)
        except BrokenProcessPool as error:
            if pool is not None and self._pool is pool:
                log.warning("decoding process ended, pool replaced", error=str(error))
                pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
            raise DecodingProcessEndedError(
                f"a decoding process ended while running {function.__name__}"
            ) from error

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
