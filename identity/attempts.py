"""Rate limits on signing in: attempts per account and per client address.

A service that signs people in keeps the table ``access_attempts`` in its own schema
(liability's and intake's migrations create it), with one row per attempt and key.
An attempt is recorded before the password or code is checked, under an advisory
lock per key, so concurrent guesses cannot pass a limit together. Where only
failures count, the caller forgets a successful attempt again.
"""

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import asyncpg

from common.db import Connection

KeyKind = Literal["account", "client"]


@dataclass(frozen=True)
class AttemptLimit:
    """At most ``max_attempts`` attempts within any ``window``."""

    max_attempts: int
    window: timedelta


class TooManyAttemptsError(Exception):
    """A limit was reached; ``retry_after`` is in whole seconds, at least 1."""

    def __init__(self, kind: KeyKind, retry_after: int) -> None:
        super().__init__(f"too many attempts for this {kind}")
        self.kind = kind
        self.retry_after = retry_after

    @property
    def minutes(self) -> int:
        """The wait rounded up to whole minutes, for the phone's Chinese message."""
        return math.ceil(self.retry_after / 60)


@dataclass(frozen=True)
class Attempt:
    """The rows that one recorded attempt added, one per key."""

    attempt_ids: tuple[int, ...]


class AttemptGuard:
    """Counts one kind of attempt (``scope``) per account and per client address."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        scope: str,
        per_account: AttemptLimit,
        per_client: AttemptLimit,
    ) -> None:
        self._pool = pool
        self.scope = scope
        self._limits: dict[KeyKind, AttemptLimit] = {
            "account": per_account,
            "client": per_client,
        }

    async def begin(
        self, account: str | None, client: str, now: datetime | None = None
    ) -> Attempt:
        """Record an attempt, or raise TooManyAttemptsError when a limit is reached.

        ``account`` is None when the attempt names no known account; then only the
        client's limit applies.
        """
        now = now or datetime.now(UTC)
        keys: list[tuple[KeyKind, str]] = [("client", f"client:{client}")]
        if account is not None:
            keys.append(("account", f"account:{account}"))
        keys.sort(key=lambda item: item[1])
        async with self._pool.acquire() as connection, connection.transaction():
            for _, key in keys:
                await connection.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                    f"{self.scope}:{key}",
                )
            for kind, key in keys:
                await self._check(connection, kind, key, now)
            attempt_ids = []
            for _, key in keys:
                attempt_id = await connection.fetchval(
                    "INSERT INTO access_attempts (scope, key, attempted_at)"
                    " VALUES ($1, $2, $3) RETURNING attempt_id",
                    self.scope,
                    key,
                    now,
                )
                attempt_ids.append(attempt_id)
            await self._purge(connection, now)
        return Attempt(tuple(attempt_ids))

    async def forget(self, attempt: Attempt) -> None:
        """Remove a recorded attempt, for limits that count failures only."""
        await self._pool.execute(
            "DELETE FROM access_attempts WHERE attempt_id = ANY($1::bigint[])",
            list(attempt.attempt_ids),
        )

    async def _check(
        self,
        connection: Connection,
        kind: KeyKind,
        key: str,
        now: datetime,
    ) -> None:
        limit = self._limits[kind]
        rows = await connection.fetch(
            "SELECT attempted_at FROM access_attempts"
            " WHERE scope = $1 AND key = $2 AND attempted_at > $3"
            " ORDER BY attempted_at DESC LIMIT $4",
            self.scope,
            key,
            now - limit.window,
            limit.max_attempts,
        )
        if len(rows) < limit.max_attempts:
            return
        # The oldest of the newest max_attempts must leave the window first.
        frees_at = rows[-1]["attempted_at"] + limit.window
        wait = max(1, math.ceil((frees_at - now).total_seconds()))
        raise TooManyAttemptsError(kind, wait)

    async def _purge(self, connection: Connection, now: datetime) -> None:
        longest = max(limit.window for limit in self._limits.values())
        await connection.execute(
            "DELETE FROM access_attempts WHERE scope = $1 AND attempted_at <= $2",
            self.scope,
            now - longest,
        )
