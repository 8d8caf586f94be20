"""Tokens from an OpenID Connect provider, checked against a local issuer."""

from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from identity.errors import AuthenticationError, ProviderUnavailableError
from identity.oidc import OidcVerifier
from identity.roles import Role
from identity.settings import IdentitySettings
from tests.support.oidc_issuer import LocalOidcIssuer


@pytest.fixture
def issuer() -> Iterator[LocalOidcIssuer]:
    server = LocalOidcIssuer().start()
    yield server
    server.stop()


def _verifier(issuer: LocalOidcIssuer, refresh_seconds: float = 0.0) -> OidcVerifier:
    settings = IdentitySettings(
        identity_provider="oidc",
        oidc_issuer=issuer.url,
        oidc_audience="dingze-liability",
        oidc_jwks_refresh_seconds=refresh_seconds,
    )
    return OidcVerifier(settings)


async def test_provider_token_gives_roles_and_badge(issuer: LocalOidcIssuer) -> None:
    verifier = _verifier(issuer)

    principal = await verifier.verify(
        issuer.token(roles=["officer", "offline_access", "supervisor"])
    )
    await verifier.aclose()

    assert principal.roles == frozenset({Role.OFFICER, Role.SUPERVISOR})
    assert principal.badge_number == "330102"
    assert principal.name == "王磊"
    assert principal.subject == "f3c1a2b4"


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        (lambda issuer: issuer.token(audience="another-app"), "Audience doesn't match"),
        (lambda issuer: issuer.token(lifetime_seconds=-120), "expired"),
        (lambda issuer: issuer.token(iss="http://127.0.0.1:1/other"), "issuer"),
        (
            lambda issuer: issuer.token(
                key=rsa.generate_private_key(public_exponent=65537, key_size=2048)
            ),
            "Signature verification failed",
        ),
        (lambda issuer: "not.a.token", "invalid token"),
    ],
    ids=["audience", "expired", "issuer", "foreign-key", "malformed"],
)
async def test_bad_provider_token_is_rejected(
    issuer: LocalOidcIssuer, make_token: object, reason: str
) -> None:
    verifier = _verifier(issuer)
    assert callable(make_token)

    with pytest.raises(AuthenticationError, match=reason):
        await verifier.verify(make_token(issuer))
    await verifier.aclose()


async def test_rotated_key_is_fetched_once(issuer: LocalOidcIssuer) -> None:
    verifier = _verifier(issuer, refresh_seconds=0.0)
    await verifier.verify(issuer.token())
    issuer.rotate()

    principal = await verifier.verify(issuer.token())
    await verifier.verify(issuer.token())
    await verifier.aclose()

    assert principal.roles == frozenset({Role.OFFICER})
    assert issuer.requests.count("/realms/dingze/certs") == 2
    assert issuer.requests.count("/realms/dingze/.well-known/openid-configuration") == 1


async def test_unknown_key_id_waits_for_refresh_interval(
    issuer: LocalOidcIssuer,
) -> None:
    verifier = _verifier(issuer, refresh_seconds=3600)
    await verifier.verify(issuer.token())
    issuer.rotate()

    with pytest.raises(AuthenticationError, match="not in the provider's key set"):
        await verifier.verify(issuer.token())
    await verifier.aclose()

    assert issuer.requests.count("/realms/dingze/certs") == 1


async def test_discovery_for_other_issuer_is_rejected(
    issuer: LocalOidcIssuer,
) -> None:
    issuer.discovery_issuer = "http://127.0.0.1:1/realms/elsewhere"
    verifier = _verifier(issuer)

    with pytest.raises(ProviderUnavailableError, match="names issuer"):
        await verifier.verify(issuer.token())
    await verifier.aclose()


async def test_unreachable_provider_is_unavailable(issuer: LocalOidcIssuer) -> None:
    settings = IdentitySettings(
        identity_provider="oidc",
        oidc_issuer="http://127.0.0.1:1/realms/dingze",
        oidc_audience="dingze-liability",
    )
    verifier = OidcVerifier(settings)

    with pytest.raises(ProviderUnavailableError, match="did not load"):
        await verifier.verify(issuer.token())
    await verifier.aclose()
