"""Sign-in and role checks as a FastAPI service applies them."""

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, FastAPI

from common.http import install_common_handlers
from identity.api import require_role
from identity.api import router as identity_router
from identity.authenticator import Authenticator
from identity.roles import Role, StaffPrincipal
from identity.settings import REPO_ROOT
from identity.staff import StaffDirectory
from identity.tokens import LocalTokens


def _app() -> FastAPI:
    app = FastAPI()
    app.state.authenticator = Authenticator(
        local=LocalTokens(
            Ed25519PrivateKey.generate(), "dingze-local", "dingze", timedelta(minutes=5)
        ),
        staff=StaffDirectory.from_file(REPO_ROOT / "deploy" / "local" / "staff.json"),
    )
    supervisor = require_role(Role.SUPERVISOR)

    @app.get("/breaches")
    async def breaches(
        principal: Annotated[StaffPrincipal, Depends(supervisor)],
    ) -> dict[str, str]:
        return {"seen_by": principal.badge_number}

    app.include_router(identity_router)
    install_common_handlers(app)
    return app


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def _token(http: httpx.AsyncClient, username: str) -> str:
    response = await http.post(
        "/auth/sign-in", json={"username": username, "password": f"{username}-local"}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def test_request_without_token_gets_401(http: httpx.AsyncClient) -> None:
    response = await http.get("/breaches")

    assert response.status_code == 401
    assert response.json()["detail"]["code"] == "not_signed_in"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_forged_token_gets_401(http: httpx.AsyncClient) -> None:
    token = await _token(http, "supervisor")
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")

    headers = {"authorization": f"Bearer {forged}"}
    response = await http.get("/breaches", headers=headers)

    assert response.status_code == 401


async def test_officer_on_supervisor_route_gets_403(http: httpx.AsyncClient) -> None:
    token = await _token(http, "officer")

    response = await http.get("/breaches", headers={"authorization": f"Bearer {token}"})

    assert response.status_code == 403
    assert response.json()["detail"]["code"] == "role_required"
    assert "supervisor" in response.json()["detail"]["message"]


async def test_supervisor_passes_role_check(http: httpx.AsyncClient) -> None:
    token = await _token(http, "supervisor")

    response = await http.get("/breaches", headers={"authorization": f"Bearer {token}"})
    me = await http.get("/auth/me", headers={"authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.json() == {"seen_by": "330001"}
    assert me.json()["roles"] == ["supervisor"]


async def test_wrong_password_gets_401(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/auth/sign-in", json={"username": "officer", "password": "officer"}
    )

    assert response.status_code == 401
    assert response.json()["detail"]["code"] == "not_signed_in"
    assert "access_token" not in response.text
