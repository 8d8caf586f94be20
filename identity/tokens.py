"""Tokens the platform signs itself (the local provider), with an Ed25519 key."""

import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from identity.errors import AuthenticationError
from identity.roles import Role, StaffPrincipal

ALGORITHM = "EdDSA"
REQUIRED_CLAIMS = ["exp", "iat", "sub", "aud", "iss"]
# Clocks of the services that check a token may differ this much from the signer's.
LEEWAY = timedelta(seconds=30)


def create_signing_key(path: Path) -> bool:
    """Write a new Ed25519 private key to ``path`` unless one is there already.

    Returns whether a key was written. The file is created exclusively with mode
    0600, so two processes starting at once keep the same key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    return True


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


class LocalTokens:
    """Issues and verifies the local provider's tokens."""

    def __init__(
        self, key: Ed25519PrivateKey, issuer: str, audience: str, lifetime: timedelta
    ) -> None:
        self._key = key
        self._public_key = key.public_key()
        self.issuer = issuer
        self.audience = audience
        self.lifetime = lifetime

    def issue(self, principal: StaffPrincipal) -> tuple[str, datetime]:
        """Return a signed token for the principal and the time it expires."""
        now = datetime.now(UTC)
        expires_at = now + self.lifetime
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": principal.subject,
            "iat": now,
            "exp": expires_at,
            "jti": uuid.uuid4().hex,
            "name": principal.name,
            "badge_number": principal.badge_number,
            "roles": sorted(principal.roles),
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM), expires_at

    def verify(self, token: str) -> StaffPrincipal:
        try:
            claims = jwt.decode(
                token,
                self._public_key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.PyJWTError as error:
            raise AuthenticationError(f"invalid token: {error}") from error
        return principal_from_claims(claims, "roles", "badge_number", "name")


def _claim_at(claims: dict[str, Any], dotted: str) -> Any:
    value: Any = claims
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def principal_from_claims(
    claims: dict[str, Any], roles_claim: str, badge_claim: str, name_claim: str
) -> StaffPrincipal:
    """Build the principal from verified claims; role names the platform does not
    know are ignored, so a provider may hold roles for other applications."""
    names = _claim_at(claims, roles_claim)
    if not isinstance(names, list):
        raise AuthenticationError(f"the token has no list of roles at {roles_claim}")
    known = {role.value for role in Role}
    roles = frozenset(Role(name) for name in names if name in known)
    badge = _claim_at(claims, badge_claim)
    name = _claim_at(claims, name_claim)
    return StaffPrincipal(
        subject=str(claims["sub"]),
        name=str(name) if name else str(claims["sub"]),
        badge_number=str(badge) if badge else "",
        roles=roles,
    )
