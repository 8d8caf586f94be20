"""Sign-in routes and the ``require_role`` dependency for FastAPI services.

A service keeps its :class:`Authenticator` in ``app.state.authenticator``, and may
keep a :class:`SignInRecorder` in ``app.state.sign_in_recorder`` to log each try
and an :class:`AttemptGuard` in ``app.state.sign_in_guard`` to limit failures.
Sign-out needs the authenticator's revocation list, and ``app.state.sign_out_recorder``
may log it.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Protocol

import structlog
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from common.http import problem, problem_responses
from identity.attempts import AttemptGuard, TooManyAttemptsError
from identity.authenticator import Authenticator
from identity.errors import AuthenticationError, ProviderUnavailableError
from identity.roles import Role, StaffPrincipal

router = APIRouter(prefix="/auth", tags=["sign-in"])
log = structlog.get_logger(__name__)
_bearer = HTTPBearer(auto_error=False, description="Token from POST /auth/sign-in")


class SignInRecorder(Protocol):
    async def __call__(self, username: str, principal: StaffPrincipal | None) -> None:
        """Record a sign-in; ``principal`` is None when the password was wrong."""


async def _record_sign_in(
    request: Request, username: str, principal: StaffPrincipal | None
) -> None:
    recorder: SignInRecorder | None = getattr(
        request.app.state, "sign_in_recorder", None
    )
    if recorder is not None:
        await recorder(username, principal)


class SignOutRecorder(Protocol):
    async def __call__(self, principal: StaffPrincipal) -> None:
        """Record a sign-out."""


class SignInRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class SignInConfig(BaseModel):
    """The sign-in a browser page uses: local, or at the OpenID Connect provider."""

    provider: str
    issuer: str | None = None
    client_id: str | None = None
    authorization_endpoint: str | None = None
    token_endpoint: str | None = None


class SignedIn(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    principal: StaffPrincipal


def client_address(request: Request) -> str:
    """Return the caller's address.

    uvicorn takes it from ``X-Forwarded-For`` when the connection comes from an
    address in its ``FORWARDED_ALLOW_IPS`` (loopback by default), so behind a
    proxy that variable must name the proxy.
    """
    return request.client.host if request.client else "unknown"


def _too_many_failures(error: TooManyAttemptsError, username: str) -> HTTPException:
    where = f"user {username}" if error.kind == "account" else "this address"
    return HTTPException(
        429,
        detail=problem(
            "too_many_sign_in_failures",
            f"too many failed sign-ins for {where}; try again in {error.retry_after} s",
            f"登录失败次数过多，请 {error.minutes} 分钟后再试。",
        ),
        headers={"Retry-After": str(error.retry_after)},
    )


def authenticator(request: Request) -> Authenticator:
    found: Authenticator = request.app.state.authenticator
    return found


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(
        401,
        detail=problem("not_signed_in", message, "请先登录。"),
        headers={"WWW-Authenticate": "Bearer"},
    )


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> StaffPrincipal:
    """Return the verified principal of the request's bearer token, or raise 401."""
    if credentials is None:
        raise _unauthorized("sign in and send the token as Authorization: Bearer")
    try:
        return await authenticator(request).verify(credentials.credentials)
    except AuthenticationError as error:
        log.info("token rejected", path=request.url.path, reason=str(error))
        raise _unauthorized(f"{error}; sign in again") from error
    except ProviderUnavailableError as error:
        raise HTTPException(
            503,
            detail=problem(
                "identity_provider_unavailable",
                f"{error}; try again shortly",
                "登录服务暂不可用，请稍后重试。",
            ),
        ) from error


Principal = Annotated[StaffPrincipal, Depends(current_principal)]


def require_role(*roles: Role) -> Callable[..., Awaitable[StaffPrincipal]]:
    """Return a dependency that lets through principals holding one of ``roles``."""
    allowed = frozenset(roles)

    async def check(principal: Principal) -> StaffPrincipal:
        if not principal.has_any(allowed):
            names = ", ".join(sorted(allowed))
            raise HTTPException(
                403,
                detail=problem(
                    "role_required",
                    f"this action needs one of the roles {names}; "
                    f"{principal.subject} has {', '.join(sorted(principal.roles))}",
                    "您没有执行此操作的权限。",
                ),
            )
        return principal

    return check


@router.post(
    "/sign-in",
    responses=problem_responses(
        {
            401: "The username or password is wrong",
            404: "This deployment signs staff in at its OpenID Connect provider",
            429: "Too many failed sign-ins for the user or the address",
        }
    ),
)
async def sign_in(body: SignInRequest, request: Request) -> SignedIn:
    """Sign in with a staff username and password; returns a bearer token."""
    auth = authenticator(request)
    if not auth.signs_in_locally:
        raise HTTPException(
            404,
            detail=problem(
                "sign_in_at_provider",
                "this deployment signs staff in at its OpenID Connect provider",
                "请通过单位统一身份认证登录。",
            ),
        )
    guard: AttemptGuard | None = getattr(request.app.state, "sign_in_guard", None)
    attempt = None
    if guard is not None:
        client = client_address(request)
        try:
            attempt = await guard.begin(body.username, client)
        except TooManyAttemptsError as error:
            log.warning(
                "sign-in rate limited",
                username=body.username,
                client=client,
                limit=error.kind,
                retry_after=error.retry_after,
            )
            raise _too_many_failures(error, body.username) from error
    # scrypt takes tens of milliseconds of CPU, so it runs off the event loop.
    result = await asyncio.to_thread(auth.sign_in, body.username, body.password)
    if result is None:
        log.info("sign-in rejected", username=body.username)
        await _record_sign_in(request, body.username, None)
        raise _unauthorized("the username or password is wrong")
    if guard is not None and attempt is not None:
        # Only failures count against the limits.
        await guard.forget(attempt)
    principal, token, expires_at = result
    await _record_sign_in(request, body.username, principal)
    log.info("signed in", username=principal.subject, badge=principal.badge_number)
    return SignedIn(access_token=token, expires_at=expires_at, principal=principal)


@router.post("/sign-out", status_code=204)
async def sign_out(
    request: Request,
    principal: Principal,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Response:
    """Sign out: every service rejects this token from now on."""
    assert credentials is not None  # the principal was verified from it
    auth = authenticator(request)
    assert auth.revocations is not None, "the service did not open the revocations"
    token = credentials.credentials
    await auth.revocations.revoke(
        token, "staff", principal.subject, auth.expires_at(token)
    )
    recorder: SignOutRecorder | None = getattr(
        request.app.state, "sign_out_recorder", None
    )
    if recorder is not None:
        await recorder(principal)
    log.info("signed out", username=principal.subject, badge=principal.badge_number)
    return Response(status_code=204)


@router.get("/config")
async def sign_in_config(request: Request) -> SignInConfig:
    """Return how the workbench page signs in; needs no token."""
    auth = authenticator(request)
    if auth.oidc is None:
        return SignInConfig(provider="local")
    try:
        discovery = await auth.oidc.discovery()
    except ProviderUnavailableError as error:
        raise HTTPException(
            503,
            detail=problem(
                "identity_provider_unavailable",
                f"{error}; try again shortly",
                "登录服务暂不可用，请稍后重试。",
            ),
        ) from error
    return SignInConfig(
        provider="oidc",
        issuer=auth.oidc.issuer,
        client_id=auth.oidc.client_id,
        authorization_endpoint=str(discovery["authorization_endpoint"]),
        token_endpoint=str(discovery["token_endpoint"]),
    )


@router.get("/me")
async def me(principal: Principal) -> StaffPrincipal:
    """Return who the token belongs to, with their roles."""
    return principal
