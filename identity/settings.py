"""Identity settings: the local provider by default, OpenID Connect for deployment."""

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from identity.attempts import AttemptLimit

REPO_ROOT = Path(__file__).resolve().parents[1]


class IdentitySettings(BaseSettings):
    """Staff sign-in and token verification, read from ``DINGZE_`` variables."""

    model_config = SettingsConfigDict(env_prefix="DINGZE_", extra="ignore")

    identity_provider: Literal["local", "oidc"] = Field(
        default="local",
        description="local: the platform signs tokens for users of the staff file; "
        "oidc: tokens come from an OpenID Connect provider",
    )
    identity_staff_file: Path = REPO_ROOT / "deploy" / "local" / "staff.json"
    identity_signing_key_file: Path | None = Field(
        default=None,
        description="PEM file of the Ed25519 key the local provider signs with; "
        "make stack-up creates one under .stack/identity",
    )
    identity_token_issuer: str = "dingze-local"
    identity_token_audience: str = "dingze"
    identity_token_minutes: int = Field(default=480, ge=1, le=24 * 60)
    identity_sign_in_failures_per_account: int = Field(
        default=5,
        ge=1,
        description="Failed sign-ins of one username within the window; more "
        "are rejected with 429 until the oldest leaves the window",
    )
    identity_sign_in_failures_per_client: int = Field(
        default=20,
        ge=1,
        description="Failed sign-ins from one client address within the window",
    )
    identity_sign_in_window_minutes: float = Field(default=15.0, gt=0)
    oidc_issuer: str = Field(
        default="",
        description="Issuer URL; its /.well-known/openid-configuration is read",
    )
    oidc_audience: str = Field(default="", description="Expected aud claim")
    oidc_client_id: str = Field(
        default="",
        description="Public client id the workbench page signs in with "
        "(authorization code flow with PKCE)",
    )
    oidc_roles_claim: str = Field(
        default="realm_access.roles",
        description="Dotted path of the list of role names in the token",
    )
    oidc_badge_claim: str = "badge_number"
    oidc_name_claim: str = "name"
    oidc_algorithms: list[str] = ["RS256", "ES256", "EdDSA"]
    oidc_jwks_refresh_seconds: float = Field(
        default=60.0,
        description="Minimum seconds between two JWKS fetches for unknown key ids",
    )

    def sign_in_limits(self) -> tuple[AttemptLimit, AttemptLimit]:
        """Return the limits of failed sign-ins per account and per client."""
        window = timedelta(minutes=self.identity_sign_in_window_minutes)
        return (
            AttemptLimit(self.identity_sign_in_failures_per_account, window),
            AttemptLimit(self.identity_sign_in_failures_per_client, window),
        )
