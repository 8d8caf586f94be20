"""Password hashes for the local staff file, with scrypt from the standard library."""

import base64
import hashlib
import hmac
import secrets

# scrypt cost parameters: 16 MiB of memory and about 50 ms per hash on one core.
_N = 2**14
_R = 8
_P = 1
_PREFIX = "scrypt"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024
    )


def hash_password(password: str) -> str:
    """Return ``scrypt$n$r$p$salt$hash`` for a password, with a fresh random salt."""
    salt = secrets.token_bytes(16)
    digest = _derive(password, salt, _N, _R, _P)
    return f"{_PREFIX}${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """Check a password against a stored hash in constant time.

    A malformed hash never matches.
    """
    parts = encoded.split("$")
    if len(parts) != 6 or parts[0] != _PREFIX:
        return False
    try:
        n, r, p = (int(part) for part in parts[1:4])
        salt = base64.b64decode(parts[4], validate=True)
        expected = base64.b64decode(parts[5], validate=True)
    except ValueError:
        return False
    return hmac.compare_digest(_derive(password, salt, n, r, p), expected)


# Checked when a username is unknown, so that a miss costs as long as a wrong password.
DECOY_HASH = hash_password(secrets.token_hex(16))
