"""Structured JSON logs with case and trace ids, and personal numbers masked."""

import logging
import re
import sys
import time
from collections.abc import MutableMapping
from typing import Any

import structlog

_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
# A resident identity card number: 17 digits and a check character, 0-9 or X.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{4})\d{10}(\d{3}[0-9Xx])(?![0-9A-Za-z])")
# Bank card and account numbers run from 12 to 19 digits.
_ACCOUNT_NUMBER = re.compile(r"(?<![0-9A-Za-z*])\d{8,15}(\d{4})(?![0-9A-Za-z])")


def mask_phone_numbers(text: str) -> str:
    """Replace the middle four digits of every mainland mobile number with stars."""
    return _MOBILE.sub(r"\1****\2", text)


def mask_personal_numbers(text: str) -> str:
    """Mask identity card numbers, account-length digit runs and mobile numbers.

    An identity card number keeps its first and last four characters
    (``1101**********1234``), a run of 12 to 19 digits its last four (``****0123``),
    and a mobile number its first three and last four (``138****5678``). Any
    other run of 12 to 19 digits, such as a millisecond timestamp written as text,
    is masked too.
    """
    text = _ID_NUMBER.sub(r"\1**********\2", text)
    text = _ACCOUNT_NUMBER.sub(r"****\1", text)
    return mask_phone_numbers(text)


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_personal_numbers(value)
    if isinstance(value, dict):
        return {key: _mask_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_value(item) for item in value]
    return value


def _mask_event(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key, value in event_dict.items():
        event_dict[key] = _mask_value(value)
    return event_dict


class RepeatFilter(logging.Filter):
    """Let the same log line through once per window and count the copies held back.

    Client libraries log every failed reconnection, many times a second while an
    engine is down, and one line per window carries the same information.
    """

    def __init__(self, window_seconds: float = 10.0, max_keys: int = 1000) -> None:
        super().__init__()
        self.window_seconds = window_seconds
        self.max_keys = max_keys
        self._seen: dict[str, tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = f"{record.name}:{record.levelno}:{_message_key(record)}"
        now = time.monotonic()
        first_seen, held_back = self._seen.get(key, (0.0, 0))
        if now - first_seen < self.window_seconds:
            self._seen[key] = (first_seen, held_back + 1)
            return False
        if len(self._seen) >= self.max_keys:
            self._seen.clear()
        self._seen[key] = (now, 0)
        if held_back and isinstance(record.msg, dict):
            record.msg["repeated"] = held_back
        elif held_back:
            record.msg = f"{record.getMessage()} (repeated {held_back} times)"
            record.args = ()
        return True


def _message_key(record: logging.LogRecord) -> str:
    if isinstance(record.msg, dict):
        fields = sorted((k, repr(v)) for k, v in record.msg.items() if k != "timestamp")
        return repr(fields)
    return record.getMessage()


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send every log line, ours and the libraries', to stdout as one JSON object."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _mask_event,
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    handler.addFilter(RepeatFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    structlog.contextvars.bind_contextvars(service=service)
