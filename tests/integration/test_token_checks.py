"""Every service checks the signature, audience, issuer and expiry of a credential.

Each test sends one kind of credential to every service: staff tokens of the
local provider or of an OpenID Connect provider, party sessions, or insurers'
signatures. A well-formed one must pass. A forged one, one for another audience
or issuer, an expired one and an unsigned one (``alg: none``) must get 401 at
every service. All staff tokens carry one audience
(``DINGZE_IDENTITY_TOKEN_AUDIENCE`` or ``DINGZE_OIDC_AUDIENCE``) and the roles
decide per endpoint, so a token for another audience is one signed with the
right key for another application.
"""

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.events import ClaimOpened
from contracts.webhooks import SIGNATURE_HEADER, sign
from demo.client import PlatformClient, bearer, sample_case
from identity.party_access import PartyAccessPolicy, PartyTokens
from identity.tokens import load_signing_key
from services.intake.settings import IntakeSettings
from tests.support.insurers import HAND_PLAYED_INSURERS, signed_insurer
from tests.support.oidc_issuer import LocalOidcIssuer
from tests.support.platform import PlatformProcesses, free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

# Every staff role, so a valid token passes the role check of each probe below.
ALL_STAFF_ROLES = ["auxiliary_officer", "officer", "supervisor", "operator"]
# The endpoint of each service that returns 200 to a valid staff token or party
# session.
PROBES = {
    "intake": ("GET", "/cases/{case_id}"),
    "liability": ("GET", "/auth/me"),
    "notify": ("GET", "/cases/{case_id}/messages"),
    "insurance": ("POST", "/insurers/{insurer_code}/claim-events"),
}
REJECTION_CODES = {
    "intake": {"staff_token_invalid", "session_invalid", "session_expired"},
    "liability": {"not_signed_in"},
    "notify": {"not_signed_in"},
    "insurance": {"signature_invalid"},
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    """Return a JWT with ``alg: none`` and an empty signature."""
    head = {"alg": "none", "typ": "JWT", **(header or {})}
    return f"{_b64(json.dumps(head).encode())}.{_b64(json.dumps(claims).encode())}."


def _hmac_signed(claims: dict[str, Any], secret: bytes, kid: str | None = None) -> str:
    """Return a JWT signed HS256 with ``secret``, such as a public key's PEM."""
    head: dict[str, Any] = {"alg": "HS256", "typ": "JWT"}
    if kid is not None:
        head["kid"] = kid
    signing_input = (
        f"{_b64(json.dumps(head).encode())}.{_b64(json.dumps(claims).encode())}"
    )
    digest = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(digest)}"


def _url(base: str, service: str, case_id: UUID, insurer: str) -> str:
    path = PROBES[service][1].format(case_id=case_id, insurer_code=insurer)
    return base + path


async def _probe(
    http: httpx.AsyncClient,
    bases: dict[str, str],
    service: str,
    case_id: UUID,
    headers: dict[str, str],
    insurer: str = "TPIC",
) -> httpx.Response:
    method = PROBES[service][0]
    body = b"{}" if method == "POST" else None
    return await http.request(
        method,
        _url(bases[service], service, case_id, insurer),
        content=body,
        headers=headers,
    )


def _code(response: httpx.Response) -> str:
    try:
        code: str = response.json()["detail"]["code"]
    except (ValueError, KeyError, TypeError):
        return ""
    return code


def _bases(platform: PlatformProcesses) -> dict[str, str]:
    return {
        service: f"http://127.0.0.1:{platform.env[f'DINGZE_{service.upper()}_PORT']}"
        for service in PROBES
    }


def _local_claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": "dingze-local",
        "aud": "dingze",
        "sub": "token-probe",
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
        "name": "令牌检查",
        "badge_number": "330555",
        "roles": ALL_STAFF_ROLES,
        **changes,
    }
    return {key: value for key, value in claims.items() if value is not None}


def _local_tokens(key_file: Path) -> dict[str, str]:
    """Return a valid local staff token and every kind of bad one, by name."""
    key = load_signing_key(key_file)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    hour_ago = int(time.time()) - 3600
    return {
        "valid": jwt.encode(_local_claims(), key, algorithm="EdDSA"),
        "forged signature": jwt.encode(
            _local_claims(), Ed25519PrivateKey.generate(), algorithm="EdDSA"
        ),
        "other audience": jwt.encode(
            _local_claims(aud="dingze-insurers"), key, algorithm="EdDSA"
        ),
        "other issuer": jwt.encode(
            _local_claims(iss="another-issuer"), key, algorithm="EdDSA"
        ),
        "expired": jwt.encode(
            _local_claims(iat=hour_ago, exp=hour_ago + 600), key, algorithm="EdDSA"
        ),
        "no expiry": jwt.encode(_local_claims(exp=None), key, algorithm="EdDSA"),
        "alg none": _unsigned(_local_claims()),
        "HS256 with the public key": _hmac_signed(_local_claims(), public_pem),
    }


def _party_tokens(case_id: UUID) -> dict[str, str]:
    """Return a valid party session for party A of the case and bad ones, by name."""
    policy = IntakeSettings().party_access_policy()
    tokens = PartyTokens(policy)
    now = datetime.now(UTC)
    link = tokens.issue_link(case_id, "A", now)
    grant = tokens.read(link, "link", now)
    session, _ = tokens.issue_session(grant, now)
    forger = PartyTokens(PartyAccessPolicy(secret=b"not-the-platform-secret-0123"))
    forged, _ = forger.issue_session(grant, now)
    expired, _ = tokens.issue_session(grant, now - timedelta(hours=3))
    return {
        "valid": session,
        "forged signature": forged,
        "link as session": link,
        "expired": expired,
        "unsigned": session.split(".")[0] + ".",
    }


def _check(
    results: dict[tuple[str, str], httpx.Response],
    accepted: Callable[[str, str], bool],
) -> list[str]:
    """Return a line for each response that differs from what its token should get."""
    wrong = []
    for (service, name), response in results.items():
        if accepted(service, name):
            ok = response.status_code == 200
        else:
            ok = (
                response.status_code == 401
                and _code(response) in (REJECTION_CODES[service])
            )
        if not ok:
            wrong.append(
                f"{service} with {name}: {response.status_code} {response.text[:200]}"
            )
    return wrong


async def test_local_staff_tokens_checked_everywhere(
    platform: PlatformProcesses, client: PlatformClient
) -> None:
    case_id = await client.open_case(sample_case())
    tokens = _local_tokens(Path(platform.env["DINGZE_IDENTITY_SIGNING_KEY_FILE"]))
    bases = _bases(platform)

    results = {
        (service, name): await _probe(
            client.http, bases, service, case_id, bearer(token)
        )
        for service in PROBES
        for name, token in tokens.items()
    }

    wrong = _check(
        results, lambda service, name: name == "valid" and service != "insurance"
    )
    assert wrong == [], "\n".join(wrong)


async def test_party_sessions_checked_everywhere(
    platform: PlatformProcesses, client: PlatformClient
) -> None:
    case_id = await client.open_case(sample_case())
    tokens = _party_tokens(case_id)
    bases = _bases(platform)

    results = {
        (service, name): await _probe(
            client.http, bases, service, case_id, bearer(token)
        )
        for service in PROBES
        for name, token in tokens.items()
    }

    wrong = _check(
        results, lambda service, name: (service, name) == ("intake", "valid")
    )
    assert wrong == [], "\n".join(wrong)
    assert _code(results["intake", "expired"]) == "session_expired"
    assert _code(results["intake", "forged signature"]) == "session_invalid"


async def test_insurer_signatures_checked(
    platform: PlatformProcesses, client: PlatformClient
) -> None:
    insurer, other = (signed_insurer(platform, code) for code in HAND_PLAYED_INSURERS)
    # A case whose ruling insurance never sent, so an accepted signature gets 409.
    event = ClaimOpened(
        case_id=uuid.uuid4(), insurer_code=insurer.code, claim_number="PROBE-1"
    )
    body = json.dumps({"topic": event.topic, "event": event.model_dump(mode="json")})
    now = int(time.time())
    digest_only = sign(insurer.secret, now, body.encode()).split(",")[1]
    headers = {
        "valid": {SIGNATURE_HEADER: sign(insurer.secret, now, body.encode())},
        "forged signature": {
            SIGNATURE_HEADER: sign("not-the-secret", now, body.encode())
        },
        "other insurer's secret": {
            SIGNATURE_HEADER: sign(other.secret, now, body.encode())
        },
        "expired": {SIGNATURE_HEADER: sign(insurer.secret, now - 600, body.encode())},
        "no digest": {SIGNATURE_HEADER: f"t={now}"},
        "no time": {SIGNATURE_HEADER: digest_only},
        "staff token of the insurer": bearer(
            jwt.encode(
                _local_claims(roles=["insurer"], badge_number=insurer.code),
                load_signing_key(
                    Path(platform.env["DINGZE_IDENTITY_SIGNING_KEY_FILE"])
                ),
                algorithm="EdDSA",
            )
        ),
    }
    url = f"{_bases(platform)['insurance']}/insurers/{insurer.code}/claim-events"

    results = {
        name: await client.http.post(
            url,
            content=body,
            headers={"content-type": "application/json", **header},
        )
        for name, header in headers.items()
    }

    assert results["valid"].status_code == 409, results["valid"].text
    assert _code(results["valid"]) == "ruling_not_delivered"
    for name, response in results.items():
        if name == "valid":
            continue
        assert response.status_code == 401, f"{name}: {response.text}"
        assert _code(response) == "signature_invalid", name


@pytest.fixture(scope="module")
def oidc_services(
    platform: PlatformProcesses,
) -> Iterator[tuple[dict[str, str], LocalOidcIssuer]]:
    """Intake, liability and notify trusting a local OpenID Connect issuer.

    Their own topic prefix keeps them out of the main services' consumer groups.
    """
    issuer = LocalOidcIssuer().start()
    prefix = platform.env["DINGZE_KAFKA_TOPIC_PREFIX"]
    ports = {service: free_port() for service in ("intake", "liability", "notify")}
    env = {
        **platform.env,
        "DINGZE_IDENTITY_PROVIDER": "oidc",
        "DINGZE_OIDC_ISSUER": issuer.url,
        "DINGZE_OIDC_AUDIENCE": "dingze",
        "DINGZE_OIDC_CLIENT_ID": "dingze-workbench",
        "DINGZE_KAFKA_TOPIC_PREFIX": f"{prefix}tokens.",
        "DINGZE_INTAKE_MANAGE_BUCKET_CORS": "false",
        **{f"DINGZE_{name.upper()}_PORT": str(port) for name, port in ports.items()},
    }
    services = PlatformProcesses(
        log_dir=platform.log_dir / "oidc-tokens", env=env, urls=platform.urls
    )
    services.log_dir.mkdir(parents=True, exist_ok=True)
    try:
        for name in ports:
            services.start(name, f"services.{name}")
        for name in ports:
            services.wait_healthy(name)
        yield {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}, issuer
    finally:
        services.stop_all()
        issuer.stop()


def _oidc_tokens(issuer: LocalOidcIssuer) -> dict[str, str]:
    """Return a valid provider token and every kind of bad one, by name."""
    now = int(time.time())
    good = jwt.decode(
        issuer.token(audience="dingze", roles=ALL_STAFF_ROLES),
        options={"verify_signature": False},
    )
    public_pem = jwt.PyJWK(issuer._jwks()["keys"][-1]).key.public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    return {
        "valid": issuer.token(audience="dingze", roles=ALL_STAFF_ROLES),
        "forged signature": issuer.token(
            audience="dingze",
            roles=ALL_STAFF_ROLES,
            key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        ),
        "other audience": issuer.token(audience="another-app", roles=ALL_STAFF_ROLES),
        "other issuer": issuer.token(
            audience="dingze", roles=ALL_STAFF_ROLES, iss="http://127.0.0.1:1/other"
        ),
        "expired": issuer.token(
            audience="dingze", roles=ALL_STAFF_ROLES, lifetime_seconds=-600
        ),
        "alg none": _unsigned(good, {"kid": issuer.current_kid}),
        "HS256 with the public key": _hmac_signed(
            {**good, "iat": now, "exp": now + 300}, public_pem, issuer.current_kid
        ),
    }


async def test_oidc_tokens_checked_everywhere(
    oidc_services: tuple[dict[str, str], LocalOidcIssuer], client: PlatformClient
) -> None:
    bases, issuer = oidc_services
    case_id = await client.open_case(sample_case())
    tokens = _oidc_tokens(issuer)

    results = {
        (service, name): await _probe(
            client.http, bases, service, case_id, bearer(token)
        )
        for service in bases
        for name, token in tokens.items()
    }

    wrong = _check(results, lambda _service, name: name == "valid")
    assert wrong == [], "\n".join(wrong)
