"""Tokens from an OpenID Connect provider, checked against its published keys.

The provider's discovery document (``/.well-known/openid-configuration`` under the
issuer) names its JWKS address. Keys are fetched on first use and again when a
token names a key id not seen yet, at most once per refresh interval, so a
provider that rotates its keys is followed without a restart.
"""

import asyncio
import time
from typing import Any

import httpx
import jwt
import structlog

from identity.errors import AuthenticationError, ProviderUnavailableError
from identity.roles import StaffPrincipal
from identity.settings import IdentitySettings
from identity.tokens import LEEWAY, REQUIRED_CLAIMS, principal_from_claims

log = structlog.get_logger(__name__)


class OidcVerifier:
    """Verifies a provider's access tokens: signature, issuer, audience and expiry."""

    def __init__(
        self, settings: IdentitySettings, http: httpx.AsyncClient | None = None
    ) -> None:
        if not settings.oidc_issuer or not settings.oidc_audience:
            raise ValueError(
                "DINGZE_OIDC_ISSUER and DINGZE_OIDC_AUDIENCE must be set when "
                "DINGZE_IDENTITY_PROVIDER is oidc"
            )
        self._settings = settings
        self._issuer = settings.oidc_issuer.rstrip("/")
        self._http = http or httpx.AsyncClient(timeout=10)
        self._discovery: dict[str, Any] | None = None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    @property
    def issuer(self) -> str:
        return self._issuer

    @property
    def client_id(self) -> str:
        return self._settings.oidc_client_id

    async def aclose(self) -> None:
        await self._http.aclose()

    async def verify(self, token: str) -> StaffPrincipal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise AuthenticationError(f"invalid token: {error}") from error
        key = await self._key_for(str(header.get("kid", "")))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=self._settings.oidc_algorithms,
                audience=self._settings.oidc_audience,
                issuer=self._issuer,
                leeway=LEEWAY,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.PyJWTError as error:
            raise AuthenticationError(f"invalid token: {error}") from error
        return principal_from_claims(
            claims,
            self._settings.oidc_roles_claim,
            self._settings.oidc_badge_claim,
            self._settings.oidc_name_claim,
        )

    async def _key_for(self, key_id: str) -> jwt.PyJWK:
        async with self._lock:
            if key_id not in self._keys:
                interval = self._settings.oidc_jwks_refresh_seconds
                if time.monotonic() - self._fetched_at >= interval:
                    await self._refresh()
            found = self._keys.get(key_id)
        if found is None:
            raise AuthenticationError(
                f"invalid token: key id {key_id!r} is not in the provider's key set"
            )
        return found

    async def discovery(self) -> dict[str, Any]:
        """Return the provider's discovery document, fetched once and checked."""
        if self._discovery is None:
            found = await self._get_json(
                f"{self._issuer}/.well-known/openid-configuration"
            )
            if str(found.get("issuer", "")).rstrip("/") != self._issuer:
                raise ProviderUnavailableError(
                    f"the discovery document names issuer {found.get('issuer')!r},"
                    f" not {self._issuer!r}"
                )
            self._discovery = found
        return self._discovery

    async def _refresh(self) -> None:
        discovery = await self.discovery()
        jwks = await self._get_json(str(discovery["jwks_uri"]))
        key_set = jwt.PyJWKSet.from_dict(jwks)
        self._keys = {
            str(key.key_id): key for key in key_set.keys if key.key_id is not None
        }
        self._fetched_at = time.monotonic()
        log.info("oidc keys loaded", issuer=self._issuer, key_ids=sorted(self._keys))

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            log.warning("oidc provider request failed", url=url, error=repr(error))
            raise ProviderUnavailableError(f"{url} did not load: {error}") from error
        if not isinstance(body, dict):
            raise ProviderUnavailableError(f"{url} did not return a JSON object")
        return body
