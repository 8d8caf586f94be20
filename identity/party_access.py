"""Party access: an SMS link bound to one case and party, a one-time code, a session.

A link token and a session token are HMAC-SHA256 signed, so a service checks them
without a database. The one-time code needs state: its hash, expiry and failed
attempts live in the ``party_codes`` table of the service that sends it, which
creates the table in its own schema (intake's migration shows its columns). Each
refusal is a ``PartyAccessError`` with a stable code and a message for the phone in
Chinese.
"""

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from uuid import UUID

import asyncpg
from pydantic import BaseModel, ValidationError

from contracts.case import PartyId

TokenKind = Literal["link", "session"]
# What a link was sent for. A settlement link expires sooner than a case link and
# is refused with its own code once it has.
LinkPurpose = Literal["case", "settlement"]
CODE_DIGITS = 6


class PartyAccessError(Exception):
    """A link, code or session that is not accepted, with the reason for the phone."""

    def __init__(
        self, code: str, message: str, message_zh: str, status_code: int = 401
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.message_zh = message_zh
        self.status_code = status_code


@dataclass(frozen=True)
class PartyAccessPolicy:
    """How long each step lasts; the defaults suit a party still at the scene."""

    secret: bytes
    link_lifetime: timedelta = timedelta(hours=24)
    code_lifetime: timedelta = timedelta(minutes=5)
    code_max_attempts: int = 5
    code_resend_interval: timedelta = timedelta(seconds=60)
    session_lifetime: timedelta = timedelta(hours=2)


class PartyGrant(BaseModel):
    """The access a verified token grants: one party of one case, until expiry."""

    kind: TokenKind
    case_id: UUID
    party_id: PartyId
    expires_at: datetime
    nonce: str
    purpose: LinkPurpose = "case"

    @property
    def link_id(self) -> str:
        """A stable id of this token, under which its one-time code is kept."""
        return hashlib.sha256(f"{self.case_id}:{self.nonce}".encode()).hexdigest()[:32]


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PartyTokens:
    """Signs and checks link and session tokens with one secret."""

    def __init__(self, policy: PartyAccessPolicy) -> None:
        if len(policy.secret) < 16:
            raise ValueError("the party access secret must be at least 16 bytes")
        self.policy = policy

    def issue_link(
        self,
        case_id: UUID,
        party_id: str,
        now: datetime,
        purpose: LinkPurpose = "case",
    ) -> str:
        expires_at = now + self.policy.link_lifetime
        return self._issue("link", case_id, party_id, expires_at, purpose)

    def issue_session(self, link: PartyGrant, now: datetime) -> tuple[str, datetime]:
        expires_at = now + self.policy.session_lifetime
        token = self._issue("session", link.case_id, link.party_id, expires_at)
        return token, expires_at

    def read(self, token: str, kind: TokenKind, now: datetime) -> PartyGrant:
        """Return the grant of a token of ``kind``, or raise PartyAccessError."""
        payload_text, _, signature_text = token.partition(".")
        try:
            payload = _b64decode(payload_text)
            signature = _b64decode(signature_text)
        except (binascii.Error, ValueError):
            raise _invalid(kind) from None
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise _invalid(kind)
        try:
            grant = PartyGrant.model_validate_json(payload)
        except ValidationError:
            raise _invalid(kind) from None
        if grant.kind != kind:
            raise _invalid(kind)
        if grant.expires_at <= now:
            raise _expired(kind, grant.purpose)
        return grant

    def _issue(
        self,
        kind: TokenKind,
        case_id: UUID,
        party_id: str,
        expires_at: datetime,
        purpose: LinkPurpose = "case",
    ) -> str:
        grant = PartyGrant(
            kind=kind,
            case_id=case_id,
            party_id=party_id,
            expires_at=expires_at.astimezone(UTC),
            nonce=secrets.token_urlsafe(9),
            purpose=purpose,
        )
        payload = grant.model_dump_json().encode()
        return f"{_b64encode(payload)}.{_b64encode(self._sign(payload))}"

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self.policy.secret, payload, hashlib.sha256).digest()


def _invalid(kind: TokenKind) -> PartyAccessError:
    if kind == "link":
        return PartyAccessError(
            "link_invalid",
            "the link is invalid; open the link from the latest SMS again",
            "链接无效，请重新打开短信中的链接。",
        )
    return PartyAccessError(
        "session_invalid",
        "the session is invalid; open the SMS link and confirm the code again",
        "登录状态无效，请重新打开短信链接并输入验证码。",
    )


def _expired(kind: TokenKind, purpose: LinkPurpose) -> PartyAccessError:
    if kind == "link" and purpose == "settlement":
        return PartyAccessError(
            "settlement_link_expired",
            "the settlement link has expired; contact the insurer of the claim",
            "理赔确认链接已过期，请联系保险公司处理。",
        )
    if kind == "link":
        return PartyAccessError(
            "link_expired",
            "the link has expired; ask the officer or the service line for a new one",
            "链接已过期，请联系民警或客服重新发送短信。",
        )
    return PartyAccessError(
        "session_expired",
        "the session has expired; open the SMS link and confirm a new code",
        "登录已过期，请重新打开短信链接并输入新的验证码。",
    )


class OneTimeCodes:
    """One-time codes sent by SMS, kept as keyed hashes with expiry and attempts."""

    def __init__(self, pool: asyncpg.Pool, policy: PartyAccessPolicy) -> None:
        self._pool = pool
        self.policy = policy

    async def issue(self, link: PartyGrant, now: datetime) -> str:
        """Create a new code for the link, replacing any earlier one, and return it.

        Raises PartyAccessError when a code was sent less than the resend interval
        ago, so a reloaded page cannot flood the party's phone.
        """
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        async with self._pool.acquire() as connection, connection.transaction():
            sent_at = await connection.fetchval(
                "SELECT sent_at FROM party_codes WHERE link_id = $1 FOR UPDATE",
                link.link_id,
            )
            wait = (
                None
                if sent_at is None
                else sent_at + self.policy.code_resend_interval - now
            )
            if wait is not None and wait > timedelta(0):
                seconds = int(wait.total_seconds()) + 1
                raise PartyAccessError(
                    "code_recently_sent",
                    f"a code was sent moments ago; wait {seconds} s before "
                    "requesting another",
                    f"验证码已发送，请 {seconds} 秒后再重新获取。",
                    status_code=429,
                )
            await connection.execute(
                """
                INSERT INTO party_codes
                    (link_id, case_id, party_id, code_hash, sent_at, expires_at,
                     failed_attempts, confirmed_at)
                VALUES ($1, $2, $3, $4, $5, $6, 0, NULL)
                ON CONFLICT (link_id) DO UPDATE SET
                    code_hash = excluded.code_hash,
                    sent_at = excluded.sent_at,
                    expires_at = excluded.expires_at,
                    failed_attempts = 0,
                    confirmed_at = NULL
                """,
                link.link_id,
                link.case_id,
                link.party_id,
                self._hash(link, code),
                now,
                now + self.policy.code_lifetime,
            )
        return code

    async def confirm(self, link: PartyGrant, code: str, now: datetime) -> None:
        """Accept the code once, or raise PartyAccessError saying why not."""
        async with self._pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(
                "SELECT code_hash, expires_at, failed_attempts, confirmed_at"
                " FROM party_codes WHERE link_id = $1 FOR UPDATE",
                link.link_id,
            )
            refusal = self._check(link, code, row, now)
            if refusal is None:
                await connection.execute(
                    "UPDATE party_codes SET confirmed_at = $2 WHERE link_id = $1",
                    link.link_id,
                    now,
                )
            elif refusal.code in ("code_incorrect", "code_attempts_exceeded"):
                # Counted in the transaction that commits before the refusal is
                # raised, so concurrent guesses cannot share one attempt.
                await connection.execute(
                    "UPDATE party_codes SET failed_attempts = failed_attempts + 1"
                    " WHERE link_id = $1",
                    link.link_id,
                )
        if refusal is not None:
            raise refusal

    def _check(
        self, link: PartyGrant, code: str, row: asyncpg.Record | None, now: datetime
    ) -> PartyAccessError | None:
        if row is None or row["confirmed_at"] is not None:
            return PartyAccessError(
                "code_not_requested",
                "no code is waiting for this link; ask for a new code",
                "请先获取验证码。",
                status_code=409,
            )
        limit = self.policy.code_max_attempts
        if row["failed_attempts"] >= limit:
            return _too_many_attempts(limit)
        if row["expires_at"] <= now:
            return PartyAccessError(
                "code_expired",
                "the code has expired; ask for a new code",
                "验证码已过期，请重新获取。",
            )
        if hmac.compare_digest(row["code_hash"], self._hash(link, code)):
            return None
        left = limit - row["failed_attempts"] - 1
        if left <= 0:
            return _too_many_attempts(limit)
        return PartyAccessError(
            "code_incorrect",
            f"the code is incorrect; {left} attempts left",
            f"验证码不正确，还可以再试 {left} 次。",
        )

    def _hash(self, link: PartyGrant, code: str) -> str:
        # Keyed and bound to the link, so a leaked table does not reveal codes by a
        # search over the million possible values.
        message = json.dumps([link.link_id, code]).encode()
        return hmac.new(self.policy.secret, message, hashlib.sha256).hexdigest()


def _too_many_attempts(limit: int) -> PartyAccessError:
    return PartyAccessError(
        "code_attempts_exceeded",
        f"the code was entered wrongly {limit} times; ask for a new code",
        f"验证码错误次数过多（{limit} 次），请重新获取验证码。",
        status_code=429,
    )
