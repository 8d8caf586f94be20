from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from temporalio.service import RPCError, RPCStatusCode

from common.http import install_common_handlers


class Note(BaseModel):
    text: str


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/notes")
    async def add_note(note: Note) -> Note:
        return note

    @app.get("/notes/{note_id}")
    async def read_note(note_id: int, full: bool = False) -> Note:
        return Note(text=f"note {note_id}, full: {full}")

    @app.get("/database")
    async def read_database() -> None:
        raise ConnectionRefusedError("connection refused")

    @app.get("/temporal/{status}")
    async def query_case(status: str) -> None:
        raise RPCError("Timeout expired", RPCStatusCode[status.upper()], b"")

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
    assert response.headers["retry-after"] == "5"


@pytest.mark.parametrize("status", ["deadline_exceeded", "unavailable", "cancelled"])
async def test_temporal_timeout_answers_503_problem(status: str) -> None:
    async with await _client() as client:
        response = await client.get(f"/temporal/{status}")

    assert response.status_code == 503
    assert response.json()["detail"]["code"] == "service_unavailable"
    assert response.headers["retry-after"] == "5"


async def test_other_temporal_error_answers_500_problem() -> None:
    async with await _client() as client:
        response = await client.get("/temporal/invalid_argument")

    assert response.status_code == 500
    assert response.json()["detail"]["code"] == "internal_error"


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


async def test_unknown_query_parameter_answers_422() -> None:
    async with await _client() as client:
        known = await client.get("/notes/7", params={"full": "true"})
        misspelt = await client.get("/notes/7", params={"ful": "true"})

    assert known.status_code == 200
    assert misspelt.status_code == 422
    assert misspelt.json()["detail"]["code"] == "query_parameter_unknown"
    assert "'ful'" in misspelt.json()["detail"]["message"]
    assert misspelt.json()["detail"]["message_zh"]


async def test_framework_refusals_carry_problem_body() -> None:
    async with await _client() as client:
        unreadable = await client.post(
            "/notes",
            content=b"\xff\xfe{",
            headers={"content-type": "application/json"},
        )
        missing = await client.get("/nowhere")
        wrong_method = await client.delete("/notes")

    assert unreadable.status_code == 400
    assert unreadable.json()["detail"]["code"] == "body_unreadable"
    assert missing.status_code == 404
    assert missing.json()["detail"]["code"] == "not_found"
    assert wrong_method.status_code == 405
    assert wrong_method.json()["detail"]["code"] == "method_not_allowed"
    for response in (unreadable, missing, wrong_method):
        assert response.json()["detail"]["message_zh"]


def test_openapi_lists_shared_refusals() -> None:
    document = _app().openapi()
    add_note = document["paths"]["/notes"]["post"]["responses"]
    read_note = document["paths"]["/notes/{note_id}"]["get"]["responses"]

    assert {"400", "413", "422", "503"} <= set(add_note)
    assert "413" not in read_note
    assert {"422", "503"} <= set(read_note)
    invalid = add_note["422"]["content"]["application/json"]["schema"]
    assert len(invalid["anyOf"]) == 2
    assert "ProblemBody" in document["components"]["schemas"]
    assert "ValidationErrorBody" in document["components"]["schemas"]
