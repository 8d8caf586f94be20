"""Signed-out tokens, which every service checks before it accepts a token.

Staff tokens and party sessions are signed, so a service verifies them without
asking anyone, and a signature stays valid until the token expires. Sign-out
therefore records the token in ``identity.revoked_tokens``, the one table the
services share (``common/migrate.py`` grants it to them). The table holds only
signed-out tokens, and only until they expire, so the check is a primary-key
lookup in a small table. It runs on every request, without a cache, so a
sign-out takes effect in every service at once.
"""

import hashlib
from datetime import datetime
from typing import Literal

import asyncpg

from identity.tokens import LEEWAY

TokenKind = Literal["staff", "party"]


def token_id(token: str) -> str:
    """Return the hex SHA-256 of a token, under which it is revoked."""
    return hashlib.sha256(token.encode()).hexdigest()


class RevocationList:
    """Reads and adds to ``identity.revoked_tokens`` through a service's pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def revoke(
        self, token: str, kind: TokenKind, subject: str, expires_at: datetime
    ) -> None:
        """Record a token as signed out until it expires; a repeat changes nothing.

        Rows of tokens expired longer than the clock leeway are removed here.
        """
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute(
                "INSERT INTO identity.revoked_tokens"
                " (token_id, kind, subject, expires_at) VALUES ($1, $2, $3, $4)"
                " ON CONFLICT (token_id) DO NOTHING",
                token_id(token),
                kind,
                subject,
                expires_at,
            )
            await connection.execute(
                "DELETE FROM identity.revoked_tokens"
                " WHERE expires_at < now() - $1::interval",
                LEEWAY,
            )

    async def is_revoked(self, token: str) -> bool:
        return bool(
            await self._pool.fetchval(
                "SELECT 1 FROM identity.revoked_tokens WHERE token_id = $1",
                token_id(token),
            )
        )
