"""The consumer middleware for messages whose handler fails.

A failed message is read again (the subscription nacks it). Each failure of the same
message is logged and followed by a pause that doubles, so a failing handler does
not spin. Some messages can never succeed: they are not valid JSON, do not match
their model (a version the model does not know included), are larger than the
consumer's limit, or make their handler raise PermanentMessageError. Those, and
messages that still fail after MAX_ATTEMPTS for another reason than an engine being
down, go to the dead-letter topic with the reason, and the consumer moves on. Nothing is
dropped, because the dead-letter topic keeps the bytes. A message that fails because
an engine is down is retried until the engine is back.
"""

import asyncio
import json
from typing import Any

import structlog
from faststream import BaseMiddleware
from faststream.message import StreamMessage
from pydantic import ValidationError

from common.outages import is_unavailable

log = structlog.get_logger(__name__)

DEAD_LETTER_TOPIC = "dead-letter"
FIRST_DELAY_SECONDS = 0.5
MAX_DELAY_SECONDS = 30.0
# With doubling pauses, eight attempts span about 90 seconds.
MAX_ATTEMPTS = 8
# Failure counts are kept per message position; the table is cleared past this size.
_MAX_TRACKED = 10_000
_failures: dict[tuple[str, int, int], int] = {}


class PermanentMessageError(Exception):
    """Raised by a handler when retrying the message cannot help."""


class MessageTooLargeError(PermanentMessageError):
    """A message over the consumer's size limit, rejected before it is decoded."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"the message is {size} bytes, over the limit of {limit} bytes "
            "(DINGZE_KAFKA_MAX_MESSAGE_BYTES)"
        )


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def dead_letter_reason(error: Exception, body: bytes) -> str:
    """Return the reason code of a dead letter, sent in its ``reason`` header."""
    # A body that is not JSON reaches the handler's model as raw bytes, so it
    # fails as a ValidationError too.
    if isinstance(error, json.JSONDecodeError | UnicodeDecodeError):
        return "not_json"
    if isinstance(error, ValidationError) and not _is_json(body):
        return "not_json"
    if isinstance(error, MessageTooLargeError):
        return "too_large"
    if isinstance(error, ValidationError):
        versions = [
            item for item in error.errors() if item["loc"][-1:] == ("schema_version",)
        ]
        return "version_unknown" if versions else "schema_invalid"
    if isinstance(error, PermanentMessageError):
        return "rejected"
    return "retries_exhausted"


def retry_delay(attempts: int) -> float:
    """Return the pause after the given number of failed attempts."""
    return float(min(FIRST_DELAY_SECONDS * 2 ** (attempts - 1), MAX_DELAY_SECONDS))


def _is_permanent(error: Exception) -> bool:
    return isinstance(
        error,
        ValidationError
        | json.JSONDecodeError
        | UnicodeDecodeError
        | PermanentMessageError,
    )


def dead_letter_middleware(
    topic_prefix: str, max_message_bytes: int
) -> type[BaseMiddleware]:
    """Return the consumer middleware, sending dead letters to the prefixed topic."""

    class DeadLetterMiddleware(BaseMiddleware):
        async def consume_scope(self, call_next: Any, msg: StreamMessage[Any]) -> Any:
            record = msg.raw_message
            if record.topic.endswith(DEAD_LETTER_TOPIC):
                # A dead-letter reader's failure must not feed its own topic.
                return await call_next(msg)
            position = (record.topic, record.partition, record.offset)
            try:
                size = len(record.value or b"")
                if size > max_message_bytes:
                    raise MessageTooLargeError(size, max_message_bytes)
                result = await call_next(msg)
            except Exception as error:
                if len(_failures) >= _MAX_TRACKED:
                    _failures.clear()
                attempts = _failures.get(position, 0) + 1
                _failures[position] = attempts
                fields = {
                    "topic": record.topic,
                    "partition": record.partition,
                    "offset": record.offset,
                    "attempts": attempts,
                    "error": repr(error),
                }
                # An engine outage is waited out however long it lasts, so that no
                # case is stranded in the dead-letter topic by a restart.
                gives_up = attempts >= MAX_ATTEMPTS and not is_unavailable(error)
                if _is_permanent(error) or gives_up:
                    await self._dead_letter(msg, error, attempts)
                    _failures.pop(position, None)
                    log.error(
                        "message moved to dead-letter topic",
                        reason=dead_letter_reason(error, record.value or b""),
                        **fields,
                    )
                    return None
                delay = retry_delay(attempts)
                log.exception(
                    "message handling failed", retry_in_seconds=delay, **fields
                )
                await asyncio.sleep(delay)
                raise
            _failures.pop(position, None)
            return result

        async def _dead_letter(
            self, msg: StreamMessage[Any], error: Exception, attempts: int
        ) -> None:
            record = msg.raw_message
            broker = self.context.get("broker")
            await broker.publish(
                record.value,
                topic=f"{topic_prefix}{DEAD_LETTER_TOPIC}",
                key=record.key,
                headers={
                    "original-topic": record.topic,
                    "original-partition": str(record.partition),
                    "original-offset": str(record.offset),
                    "attempts": str(attempts),
                    "reason": dead_letter_reason(error, record.value or b""),
                    "error": repr(error)[:1000],
                },
            )

    return DeadLetterMiddleware
