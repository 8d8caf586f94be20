"""The insurer registry: code, name, topic, webhook URL, signing secret, active flag."""

import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from common.db import Connection
from common.sealing import Purpose, seal
from contracts.events import InsurerNotification

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class RegistryError(ValueError):
    """A registry change that cannot be made, with the reason."""


@dataclass(frozen=True)
class RegistryEntry:
    code: str
    name: str
    topic: str
    webhook_url: str | None
    active: bool


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def check_webhook_url(url: str) -> str:
    """Accept HTTPS URLs, and plain HTTP only on this machine for development."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return url
    raise RegistryError(
        f"webhook URL {url!r} is invalid: use https://host/path "
        "(plain http only for 127.0.0.1)"
    )


async def registry_entries(
    connection: Connection, codes: list[str]
) -> dict[str, RegistryEntry]:
    rows = await connection.fetch(
        "SELECT code, name, topic, webhook_url, active FROM insurers"
        " WHERE code = ANY($1)",
        codes,
    )
    return {row["code"]: RegistryEntry(**dict(row)) for row in rows}


async def list_insurers(connection: Connection) -> list[RegistryEntry]:
    rows = await connection.fetch(
        "SELECT code, name, topic, webhook_url, active FROM insurers ORDER BY code"
    )
    return [RegistryEntry(**dict(row)) for row in rows]


async def add_insurer(
    connection: Connection, code: str, name: str, webhook_url: str | None
) -> str:
    """Register an insurer on its own topic; return its new signing secret."""
    if webhook_url is not None:
        check_webhook_url(webhook_url)
    secret = new_secret()
    sealed = seal(secret, Purpose.WEBHOOK_SECRET)
    added = await connection.fetchval(
        "INSERT INTO insurers (code, name, topic, webhook_url, signing_secret)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO NOTHING RETURNING true",
        code,
        name,
        InsurerNotification.topic_for(code),
        webhook_url,
        sealed,
    )
    if not added:
        raise RegistryError(f"insurer {code} is already registered")
    return secret


async def set_webhook(connection: Connection, code: str, url: str | None) -> None:
    if url is not None:
        check_webhook_url(url)
    await _update_one(
        connection, code, "UPDATE insurers SET webhook_url = $2 WHERE code = $1", url
    )


async def rotate_secret(connection: Connection, code: str) -> str:
    """Give the insurer a new signing secret, used from the next delivery on."""
    secret = new_secret()
    await _update_one(
        connection,
        code,
        "UPDATE insurers SET signing_secret = $2, secret_rotated_at = now()"
        " WHERE code = $1",
        seal(secret, Purpose.WEBHOOK_SECRET),
    )
    return secret


async def set_active(connection: Connection, code: str, active: bool) -> None:
    await _update_one(
        connection, code, "UPDATE insurers SET active = $2 WHERE code = $1", active
    )


async def _update_one(
    connection: Connection, code: str, sql: str, value: object
) -> None:
    status = await connection.execute(sql, code, value)
    if status != "UPDATE 1":
        raise RegistryError(f"insurer {code} is not registered")
