"""Pieces every service's HTTP API carries: health, error bodies, a body size limit."""

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import asyncpg
import structlog
import uvicorn
from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.service import RPCError

from common.openapi import document_common_responses
from common.outages import UNAVAILABLE_ERRORS, is_unavailable

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
log = structlog.get_logger(__name__)


def serve(app: FastAPI, host: str, port: int) -> None:
    """Run the app with uvicorn, leaving log formatting to our JSON logging."""
    uvicorn.run(app, host=host, port=port, log_config=None)


def add_health_route(app: FastAPI) -> None:
    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """Return ok once the service has started its connections."""
        return {"status": "ok"}


class ProblemDetail(BaseModel):
    code: str
    message: str
    message_zh: str = ""


class ProblemBody(BaseModel):
    """An error: a stable code, a message, and Chinese text for phones."""

    detail: ProblemDetail


class InvalidField(BaseModel):
    """One invalid part of a request: where it is, why, and the error type."""

    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorBody(BaseModel):
    """The response to a request whose fields do not match the operation's schema."""

    detail: list[InvalidField]


def problem_responses(descriptions: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """Build a route's ``responses=`` for refusals with a problem body."""
    return {
        status: {"description": description, "model": ProblemBody}
        for status, description in descriptions.items()
    }


def problem(code: str, message: str, message_zh: str = "") -> dict[str, str]:
    """Build an error body: a stable code, a message, and Chinese text for phones."""
    detail = {"code": code, "message": message}
    if message_zh:
        detail["message_zh"] = message_zh
    return detail


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    # The default body echoes the input, which may be huge or hold NaN that JSON
    # cannot carry. The location and the reason are enough to fix the request.
    assert isinstance(error, RequestValidationError)
    errors = [
        {"loc": list(item["loc"]), "msg": item["msg"], "type": item["type"]}
        for item in error.errors()
    ]
    return JSONResponse(status_code=422, content={"detail": errors})


# The framework's own refusals carry a bare sentence. These add a code, an English
# message with the next step, and Chinese text, like every other refusal.
_FRAMEWORK_PROBLEMS = {
    400: (
        "body_unreadable",
        "the request body cannot be decoded; send UTF-8 encoded JSON",
        "请求内容无法读取，请重试。",
    ),
    404: (
        "not_found",
        "no operation has this path; /openapi.json lists the operations",
        "请求的地址不存在。",
    ),
    405: (
        "method_not_allowed",
        "this path does not take this method; /openapi.json lists the operations",
        "不支持此操作。",
    ),
}


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    detail: Any = error.detail
    if not isinstance(detail, dict):
        code, message, message_zh = _FRAMEWORK_PROBLEMS.get(
            error.status_code,
            ("request_failed", str(detail), "请求失败，请稍后重试。"),
        )
        detail = problem(code, message, message_zh)
    return JSONResponse(
        status_code=error.status_code,
        content={"detail": detail},
        headers=error.headers,
    )


# Seconds a caller is asked to wait after a 503 before trying again.
RETRY_AFTER_SECONDS = 5


async def _unavailable(request: Request, error: Exception) -> JSONResponse:
    log.warning(
        "request failed, an engine is unavailable",
        path=request.url.path,
        error=repr(error),
    )
    body = problem(
        "service_unavailable",
        "a database, storage or messaging engine did not answer; try again shortly",
        "系统繁忙，请稍后重试。",
    )
    return JSONResponse(
        status_code=503,
        content={"detail": body},
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _temporal_error(request: Request, error: Exception) -> JSONResponse:
    """Return 503 when Temporal is down or too slow to reply in time.

    A query or update that times out while the workers are behind is the same
    outage to the caller as a refused connection. Any other Temporal error that no
    route handled is a fault of the platform.
    """
    if is_unavailable(error):
        return await _unavailable(request, error)
    log.error(
        "request failed, the Temporal call failed",
        path=request.url.path,
        error=repr(error),
    )
    body = problem(
        "internal_error",
        "the case could not be read or changed; the fault is logged",
        "系统出错，请稍后重试。",
    )
    return JSONResponse(status_code=500, content={"detail": body})


# Text that PostgreSQL cannot store, such as a NUL character, is the caller's input
# and not a fault, so it gets a 422 even where no model rejected it first.
UNSTORABLE_TEXT_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.CharacterNotInRepertoireError,
    asyncpg.UntranslatableCharacterError,
)


async def _unstorable_text(request: Request, error: Exception) -> JSONResponse:
    log.info(
        "request rejected, text cannot be stored",
        path=request.url.path,
        error=type(error).__name__,
    )
    body = problem(
        "invalid_text",
        "the request carries characters that cannot be stored, such as NUL; "
        "remove them and send it again",
        "输入包含无法保存的字符，请修改后重试。",
    )
    return JSONResponse(status_code=422, content={"detail": body})


class _BodyTooLargeError(Exception):
    pass


class BodySizeLimitMiddleware:
    """Reject request bodies above a size, except on routes that stream uploads."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, is_exempt: Callable[[str], bool]
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.is_exempt = is_exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.is_exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(send)
            return

        received = 0
        started = False
        too_large = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                too_large = True
                raise _BodyTooLargeError
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if too_large:
                # The framework turns the failed read into its own 400; the client
                # gets the 413 that names the limit instead.
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await self._reject(send)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _BodyTooLargeError:
            if not started:
                await self._reject(send)

    async def _reject(self, send: Send) -> None:
        body = json.dumps(
            {
                "detail": problem(
                    "body_too_large",
                    f"the request body is larger than {self.max_bytes} bytes",
                    "提交的内容过长，请精简后重试。",
                )
            },
            ensure_ascii=False,
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _declared_query_names(dependant: Dependant) -> frozenset[str]:
    names: set[str] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        names.update(param.alias for param in current.query_params)
        pending.extend(current.dependencies)
    return frozenset(names)


class UnknownQueryParameterMiddleware:
    """Reject query parameters that the matched operation does not declare.

    A misspelt parameter would otherwise be ignored silently, and the caller
    would get a response to a request it did not mean to send.
    """

    def __init__(self, app: ASGIApp, routes: Callable[[], list[BaseRoute]]) -> None:
        self.app = app
        self.routes = routes
        self.declared: dict[int, frozenset[str]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            unknown = self._unknown_names(scope)
            if unknown:
                log.info(
                    "request rejected, unknown query parameters",
                    path=scope["path"],
                    parameters=unknown,
                )
                response = JSONResponse(
                    status_code=422,
                    content={
                        "detail": problem(
                            "query_parameter_unknown",
                            f"the query parameters {', '.join(unknown)} are not "
                            "accepted here; see the OpenAPI document at "
                            "/openapi.json",
                            "请求参数无效，请检查后重试。",
                        )
                    },
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _unknown_names(self, scope: Scope) -> list[str]:
        for route in self.routes():
            if not isinstance(route, APIRoute):
                continue
            match, _ = route.matches(scope)
            if match is not Match.FULL:
                continue
            declared = self.declared.get(id(route))
            if declared is None:
                declared = _declared_query_names(route.dependant)
                self.declared[id(route)] = declared
            sent = {
                name
                for name, _ in parse_qsl(
                    scope["query_string"].decode("latin-1"), keep_blank_values=True
                )
            }
            return sorted(repr(name) for name in sent - declared)
        return []


def install_common_handlers(
    app: FastAPI,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    is_upload: Callable[[str], bool] = lambda path: False,
) -> None:
    """Add the health route, compact validation errors and the body size limit.

    The OpenAPI document then lists the responses these give on every route.
    """
    add_health_route(app)
    document_common_responses(app, ProblemBody, ValidationErrorBody)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for error_type in UNAVAILABLE_ERRORS:
        app.add_exception_handler(error_type, _unavailable)
    app.add_exception_handler(RPCError, _temporal_error)
    for error_type in UNSTORABLE_TEXT_ERRORS:
        app.add_exception_handler(error_type, _unstorable_text)
    app.add_middleware(
        BodySizeLimitMiddleware, max_bytes=max_body_bytes, is_exempt=is_upload
    )
    app.add_middleware(
        UnknownQueryParameterMiddleware, routes=lambda: app.router.routes
    )
