"""Errors that mean an engine is down or slow, which waiting and retrying cure."""

import asyncpg
import urllib3.exceptions
from aiokafka.errors import KafkaError
from temporalio.service import RPCError, RPCStatusCode

UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    KafkaError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    urllib3.exceptions.HTTPError,
)
_UNAVAILABLE_RPC_STATUSES = frozenset(
    {
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.RESOURCE_EXHAUSTED,
        RPCStatusCode.CANCELLED,
    }
)


def is_unavailable(error: BaseException) -> bool:
    """Tell whether the error means an engine is down, which waiting cures."""
    if isinstance(error, RPCError):
        return error.status in _UNAVAILABLE_RPC_STATUSES
    return isinstance(error, UNAVAILABLE_ERRORS)
