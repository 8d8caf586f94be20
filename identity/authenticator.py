"""Token verification and local sign-in behind one interface."""

from datetime import UTC, datetime, timedelta

import jwt

from identity.errors import AuthenticationError
from identity.oidc import OidcVerifier
from identity.revocations import RevocationList
from identity.roles import StaffPrincipal
from identity.settings import IdentitySettings
from identity.staff import StaffDirectory
from identity.tokens import LocalTokens, load_signing_key


class Authenticator:
    """Verifies bearer tokens, and signs staff in when the provider is local."""

    def __init__(
        self,
        local: LocalTokens | None = None,
        staff: StaffDirectory | None = None,
        oidc: OidcVerifier | None = None,
    ) -> None:
        self.local = local
        self.staff = staff
        self.oidc = oidc
        # Set once the service's database pool is open; tokens signed out are
        # rejected from then on.
        self.revocations: RevocationList | None = None

    @property
    def signs_in_locally(self) -> bool:
        return self.local is not None and self.staff is not None

    async def verify(self, token: str) -> StaffPrincipal:
        if self.oidc is not None:
            principal = await self.oidc.verify(token)
        else:
            assert self.local is not None
            principal = self.local.verify(token)
        if self.revocations is not None and await self.revocations.is_revoked(token):
            raise AuthenticationError("the token was signed out")
        return principal

    @staticmethod
    def expires_at(token: str) -> datetime:
        """Return a verified token's expiry; call only after ``verify``."""
        claims = jwt.decode(token, options={"verify_signature": False})
        return datetime.fromtimestamp(int(claims["exp"]), UTC)

    def sign_in(
        self, username: str, password: str
    ) -> tuple[StaffPrincipal, str, datetime] | None:
        """Return the principal, a token and its expiry, or None for a bad password."""
        assert self.local is not None
        assert self.staff is not None
        principal = self.staff.authenticate(username, password)
        if principal is None:
            return None
        token, expires_at = self.local.issue(principal)
        return principal, token, expires_at

    async def aclose(self) -> None:
        if self.oidc is not None:
            await self.oidc.aclose()


def build_authenticator(settings: IdentitySettings) -> Authenticator:
    """Build the authenticator the settings choose, failing early on a missing file."""
    if settings.identity_provider == "oidc":
        return Authenticator(oidc=OidcVerifier(settings))
    key_file = settings.identity_signing_key_file
    if key_file is None or not key_file.exists():
        raise RuntimeError(
            f"token signing key {key_file} is missing: set "
            "DINGZE_IDENTITY_SIGNING_KEY_FILE (make stack-up creates one under "
            ".stack/identity and deploy/local/stack.py env prints its path)"
        )
    tokens = LocalTokens(
        load_signing_key(key_file),
        issuer=settings.identity_token_issuer,
        audience=settings.identity_token_audience,
        lifetime=timedelta(minutes=settings.identity_token_minutes),
    )
    return Authenticator(
        local=tokens, staff=StaffDirectory.from_file(settings.identity_staff_file)
    )
