from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from common.http import install_common_handlers


class Note(BaseModel):
    text: str


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/notes")
    async def add_note(note: Note) -> Note:
        return note

    @app.get("/database")
    async def read_database() -> None:
        raise ConnectionRefusedError("connection refused")

    install_common_handlers(app, max_body_bytes=1000)
    return app


async def _client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=_app())
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_engine_outage_answers_503_problem() -> None:
    async with await _client() as client:
        response = await client.get("/database")

    assert response.status_code == 503
    assert response.json()["detail"]["code"] == "service_unavailable"
    assert response.json()["detail"]["message_zh"]


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
async def test_oversized_body_answers_413(chunked: bool) -> None:
    body = ('{"text": "' + "x" * 5000 + '"}').encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 512):
            yield body[start : start + 512]

    async with await _client() as client:
        response = await client.post(
            "/notes",
            content=chunks() if chunked else body,
            headers={"content-type": "application/json"},
        )

    assert response.status_code == 413
    assert response.json()["detail"]["code"] == "body_too_large"


async def test_validation_error_does_not_echo_input() -> None:
    async with await _client() as client:
        response = await client.post("/notes", json={"text": ["secret 13812345678"]})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "text"]
    assert "13812345678" not in response.text
