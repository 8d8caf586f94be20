"""The signature on insurer webhooks: HMAC-SHA256 over a timestamp and the body.

Each POST carries ``X-Dingze-Signature: t=<unix seconds>,v1=<hex digest>``, where
the digest is HMAC-SHA256 with the insurer's signing secret over the bytes
``<t>.<body>``. A receiver recomputes it over the raw body, compares in constant
time and rejects timestamps too far from its clock, so a captured request cannot
be replayed later.
"""

import hashlib
import hmac

SIGNATURE_HEADER = "X-Dingze-Signature"
EVENT_ID_HEADER = "X-Dingze-Event-Id"
# The topic the event would have on Kafka, without a deployment's prefix, such as
# insurer.picc.notifications or insurer.picc.settlements.
TOPIC_HEADER = "X-Dingze-Topic"
DEFAULT_TOLERANCE_SECONDS = 300


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Return the signature header value for a body sent at ``timestamp``."""
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify(
    secret: str,
    header: str,
    body: bytes,
    now: int,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """Check a signature header against the raw body and the receiver's clock."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(fields.get("v1", ""), _digest(secret, timestamp, body))
