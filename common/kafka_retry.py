"""Slow down redelivery of a message whose handler keeps failing.

A failed message is read again at once (the subscription nacks it). Without a pause,
a message that always fails would spin its consumer at full speed, so the middleware
waits longer after each failure of the same message and logs every attempt.
"""

import asyncio
from typing import Any

import structlog
from faststream import BaseMiddleware
from faststream.message import StreamMessage

log = structlog.get_logger(__name__)

FIRST_DELAY_SECONDS = 0.5
MAX_DELAY_SECONDS = 30.0
# Failure counts are kept per message position; the table is cleared past this size.
_MAX_TRACKED = 10_000
_failures: dict[tuple[str, int, int], int] = {}


def retry_delay(attempts: int) -> float:
    """Return the pause after the given number of failed attempts."""
    return float(min(FIRST_DELAY_SECONDS * 2 ** (attempts - 1), MAX_DELAY_SECONDS))


class BackoffOnFailureMiddleware(BaseMiddleware):
    async def consume_scope(self, call_next: Any, msg: StreamMessage[Any]) -> Any:
        record = msg.raw_message
        position = (record.topic, record.partition, record.offset)
        try:
            result = await call_next(msg)
        except Exception as error:
            if len(_failures) >= _MAX_TRACKED:
                _failures.clear()
            attempts = _failures.get(position, 0) + 1
            _failures[position] = attempts
            delay = retry_delay(attempts)
            log.exception(
                "message handling failed",
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                attempts=attempts,
                retry_in_seconds=delay,
                error=repr(error),
            )
            await asyncio.sleep(delay)
            raise
        _failures.pop(position, None)
        return result
