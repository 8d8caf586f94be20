"""Pieces every service's HTTP API carries: health, error bodies, a body size limit."""

import json
from collections.abc import Callable

import asyncpg
import structlog
import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.outages import UNAVAILABLE_ERRORS

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
    return JSONResponse(status_code=503, content={"detail": body})


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


def install_common_handlers(
    app: FastAPI,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    is_upload: Callable[[str], bool] = lambda path: False,
) -> None:
    """Add the health route, compact validation errors and the body size limit."""
    add_health_route(app)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for error_type in UNAVAILABLE_ERRORS:
        app.add_exception_handler(error_type, _unavailable)
    for error_type in UNSTORABLE_TEXT_ERRORS:
        app.add_exception_handler(error_type, _unstorable_text)
    app.add_middleware(
        BodySizeLimitMiddleware, max_bytes=max_body_bytes, is_exempt=is_upload
    )
