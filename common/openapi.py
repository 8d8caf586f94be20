"""The error responses of shared code, added to each service's OpenAPI document.

Routes declare their own refusals (404, 409, 429…). The responses that come from
the shared pieces apply to many routes at once, so they are added here from what each
operation shows in the generated document:

- 401 and 403 where the operation takes a bearer token;
- 400 where it takes a body that cannot be decoded, and 413 where the body is
  over the limit (``BodySizeLimitMiddleware``);
- 422 everywhere: a problem body from a route or for an unknown query parameter,
  or the compact list of invalid fields from the validation handler;
- 503 everywhere, when a database, storage or messaging engine does not respond.
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

_REF = "#/components/schemas/{model}"
_BEARER_ANSWERS = {
    "401": "No valid token was sent, or it expired or was signed out",
    "403": "The caller may not do this",
}


def _schema_ref(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, str]:
    """Add a model's schema to the components and return a reference to it."""
    schema = model.model_json_schema(ref_template=_REF)
    schemas.update(schema.pop("$defs", {}))
    schemas.setdefault(model.__name__, schema)
    return {"$ref": _REF.format(model=model.__name__)}


def _json_answer(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }


def add_common_responses(
    document: dict[str, Any],
    problem_model: type[BaseModel],
    validation_model: type[BaseModel],
) -> None:
    """Add the shared error responses to every operation of an OpenAPI document.

    ``problem_model`` is the body of every refusal, ``validation_model`` the body
    the validation handler sends for invalid fields.
    """
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    problem = _schema_ref(problem_model, schemas)
    invalid = {"anyOf": [problem, _schema_ref(validation_model, schemas)]}
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            if operation.get("security"):
                for status, description in _BEARER_ANSWERS.items():
                    responses.setdefault(status, _json_answer(description, problem))
            if "requestBody" in operation:
                responses.setdefault(
                    "400", _json_answer("The request body cannot be read", problem)
                )
                responses.setdefault(
                    "413", _json_answer("The request body is too large", problem)
                )
            declared = responses.get("422", {})
            description = declared.get("description", "The request is invalid")
            responses["422"] = _json_answer(description, invalid)
            responses.setdefault(
                "503",
                _json_answer(
                    "A database, storage or messaging engine did not answer", problem
                ),
            )


def document_common_responses(
    app: FastAPI,
    problem_model: type[BaseModel],
    validation_model: type[BaseModel],
) -> None:
    """Make the app's OpenAPI document list the shared error responses."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            add_common_responses(generate(), problem_model, validation_model)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]
