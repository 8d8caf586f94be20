"""The local identity provider: passwords, the staff file, and signed tokens."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from identity.errors import AuthenticationError
from identity.passwords import hash_password, verify_password
from identity.roles import Role, StaffPrincipal
from identity.settings import REPO_ROOT
from identity.staff import StaffDirectory
from identity.tokens import LocalTokens, create_signing_key, load_signing_key

OFFICER = StaffPrincipal(
    subject="officer",
    name="王磊",
    badge_number="330102",
    roles=frozenset({Role.OFFICER}),
)


def _tokens(key: Ed25519PrivateKey, audience: str = "dingze") -> LocalTokens:
    return LocalTokens(key, "dingze-local", audience, timedelta(minutes=5))


def test_password_hash_verifies_only_its_password() -> None:
    encoded = hash_password("correct horse")

    assert verify_password("correct horse", encoded)
    assert not verify_password("correct horse ", encoded)
    assert not verify_password("correct horse", "scrypt$1$2$3$not-base64$")
    assert "correct horse" not in encoded


def test_staff_file_signs_in_development_accounts() -> None:
    staff = StaffDirectory.from_file(REPO_ROOT / "deploy" / "local" / "staff.json")

    officer = staff.authenticate("officer", "officer-local")
    supervisor = staff.authenticate("supervisor", "supervisor-local")

    assert officer is not None
    assert officer.badge_number == "330102"
    assert officer.roles == frozenset({Role.OFFICER})
    assert supervisor is not None
    assert supervisor.roles == frozenset({Role.SUPERVISOR})
    assert staff.authenticate("officer", "supervisor-local") is None
    assert staff.authenticate("nobody", "officer-local") is None


def test_signing_key_file_is_made_once(tmp_path: Path) -> None:
    path = tmp_path / "identity" / "key.pem"

    first = create_signing_key(path)
    content = path.read_bytes()
    second = create_signing_key(path)

    assert first
    assert not second
    assert path.read_bytes() == content
    assert path.stat().st_mode & 0o777 == 0o600
    assert isinstance(load_signing_key(path), Ed25519PrivateKey)


def test_local_token_round_trips_principal() -> None:
    tokens = _tokens(Ed25519PrivateKey.generate())

    token, expires_at = tokens.issue(OFFICER)

    assert tokens.verify(token) == OFFICER
    assert expires_at > datetime.now(UTC) + timedelta(minutes=4)


def test_token_from_other_key_is_rejected() -> None:
    token, _ = _tokens(Ed25519PrivateKey.generate()).issue(OFFICER)

    with pytest.raises(AuthenticationError, match="Signature verification failed"):
        _tokens(Ed25519PrivateKey.generate()).verify(token)


def test_token_for_other_audience_is_rejected() -> None:
    key = Ed25519PrivateKey.generate()
    token, _ = _tokens(key, audience="insurers").issue(OFFICER)

    with pytest.raises(AuthenticationError, match="Audience doesn't match"):
        _tokens(key).verify(token)


def test_expired_token_is_rejected() -> None:
    key = Ed25519PrivateKey.generate()
    now = datetime.now(UTC)
    claims = {
        "iss": "dingze-local",
        "aud": "dingze",
        "sub": "officer",
        "iat": now - timedelta(hours=2),
        "exp": now - timedelta(minutes=5),
        "roles": ["officer"],
    }
    token = jwt.encode(claims, key, algorithm="EdDSA")

    with pytest.raises(AuthenticationError, match="expired"):
        _tokens(key).verify(token)


def test_unsigned_token_is_rejected() -> None:
    claims = {"iss": "dingze-local", "aud": "dingze", "sub": "officer", "roles": []}
    token = jwt.encode(claims, "", algorithm="none")

    with pytest.raises(AuthenticationError, match="invalid token"):
        _tokens(Ed25519PrivateKey.generate()).verify(token)
