"""The event contracts over HTTP, for insurers' developers and their code generators."""

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from common.http import problem, problem_responses
from contracts.asyncapi import asyncapi_document
from contracts.events import ALL_EVENTS
from contracts.versions import committed_versions, current_version, schema_path

router = APIRouter(prefix="/contracts", tags=["contracts"])


class SchemaFile(BaseModel):
    model: str
    topic: str
    version: int
    current: bool
    url: str


@router.get("/asyncapi.json")
async def get_asyncapi(request: Request) -> dict[str, Any]:
    """Return the AsyncAPI 3.0 document of every topic."""
    return asyncapi_document(request.app.state.kafka_bootstrap)


@router.get("/schemas")
async def list_schemas() -> list[SchemaFile]:
    """List the JSON Schema file of every version of every event."""
    return [
        SchemaFile(
            model=model.__name__,
            topic=model.topic,
            version=version,
            current=version == current_version(model),
            url=f"/contracts/schemas/{schema_path(model, version).name}",
        )
        for model in ALL_EVENTS
        for version in committed_versions(model)
    ]


@router.get(
    "/schemas/{file_name}",
    responses=problem_responses({404: "No committed schema file has this name"}),
)
async def get_schema(file_name: str) -> dict[str, Any]:
    """Return one committed JSON Schema file, such as ``ClaimOpened.v1.json``."""
    for model in ALL_EVENTS:
        for version in committed_versions(model):
            path = schema_path(model, version)
            if path.name == file_name:
                schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
                return schema
    raise HTTPException(
        404,
        problem(
            "schema_not_found",
            f"no schema file {file_name}; GET /contracts/schemas lists them",
            "未找到该事件结构文件。",
        ),
    )
