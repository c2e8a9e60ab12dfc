"""How the fake answers: JSON bodies, the typed errors a handler raises, and their renderers.

A handler raises instead of returning an error response; the handlers registered once in
`create_app` render each kind:

    ApiError          an answer that ends a Wesog request early (401, 413, 422), its body given
    NotFound          404 {"detail": "Image 'x' not found."}            (from the domain)
    AlreadyStarted    409 {"detail": "Operation 3 has already started..."} (from the domain)
    AdminProblem      the admin API's refusals: {"detail": ..., "field": ...}
    ConfigError       422 in the admin API, naming the field (FaultError is one)
    ClockError        409 in the admin API (a real clock cannot be moved)
    ClientDisconnect  400, recorded in the journal (the client is gone: nobody reads it)
    HTTPException     Starlette's own (unknown path, method): FastAPI's {"detail": "Not Found"}
    Exception         500 {"detail": "Internal Server Error"}, FastAPI's shape
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from contracts.findings import Finding
from wesog_mock.controls.controller import ClockError
from wesog_mock.domain.config import ConfigError
from wesog_mock.domain.engine import AlreadyStarted, NotFound

__all__ = [
    "ADMIN_HANDLERS",
    "API_HANDLERS",
    "AdminProblem",
    "ApiError",
    "invalid",
    "json_bytes",
    "json_response",
    "refuse",
]

Handler = Callable[[Request, Exception], Awaitable[Response]]


def json_bytes(content: Any) -> bytes:
    """`content` as compact UTF-8 JSON, the bytes `json.dumps(ensure_ascii=False)` makes.

    orjson writes them several times faster; what it refuses (an integer past 64 bits, a key
    that is not a string) goes to the standard library. One difference: a float NaN or
    infinity is written `null`, as JSON has no such number (the standard library writes `NaN`,
    which no JSON parser has to accept)."""
    try:
        return orjson.dumps(content)
    except TypeError:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


_JSON_TYPE = (b"content-type", b"application/json")


class JsonResponse(Response):
    """A JSON answer with the headers Starlette's `Response` gives it (`content-length`, then
    `content-type: application/json`), built straight as raw headers: Starlette's generic
    header building was a tenth of a `GET /ops/{op_id}`."""

    media_type = "application/json"

    def __init__(self, status: int, body: bytes) -> None:  # Response.__init__ skipped: on purpose
        self.status_code = status
        self.body = body
        self.background = None
        self.raw_headers = [(b"content-length", b"%d" % len(body)), _JSON_TYPE]


def json_response(status: int, content: Any, headers: Mapping[str, str] | None = None) -> Response:
    if headers:  # a 405's Allow: rare, and in Starlette's order
        return Response(json_bytes(content), status, headers, media_type="application/json")
    return JsonResponse(status, json_bytes(content))


class ApiError(Exception):
    """An answer that ends a Wesog request early, with its status and body."""

    def __init__(self, status: int, content: Any) -> None:
        super().__init__(status, content)
        self.status = status
        self.content = content


def refuse(status: int, message: str) -> ApiError:
    """FastAPI's shape for a plain refusal: {"detail": message}."""
    return ApiError(status, {"detail": message})


def invalid(findings: list[Finding]) -> ApiError:
    """FastAPI's 422 for failed validation, one entry per finding (A9)."""
    return ApiError(422, {"detail": [f.as_fastapi_error() for f in findings]})


class AdminProblem(Exception):
    """An admin request refused: `field` names what was wrong."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.field = field
        self.message = message


def _answer(status: int, detail: str, field: str | None = None) -> Response:
    content: dict[str, Any] = {"detail": detail}
    if field is not None:
        content["field"] = field
    return json_response(status, content)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return json_response(exc.status, exc.content)


async def _not_found(request: Request, exc: Exception) -> Response:
    return _answer(404, str(exc))


async def _already_started(request: Request, exc: Exception) -> Response:
    return _answer(409, str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    # FastAPI's shape, which the real service shows: {"detail": "Not Found"}.
    return json_response(exc.status_code, {"detail": exc.detail}, dict(exc.headers or {}))


async def _client_gone(request: Request, exc: Exception) -> Response:
    # Nobody reads this answer; it is what the journal records for the request.
    return _answer(400, "The client disconnected before it had sent the whole body.")


async def _server_error(request: Request, exc: Exception) -> Response:
    return _answer(500, "Internal Server Error")


async def _admin_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AdminProblem)
    return _answer(exc.status, exc.message, exc.field)


async def _config_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConfigError)
    return _answer(422, str(exc), exc.field)


async def _clock_error(request: Request, exc: Exception) -> Response:
    return _answer(409, str(exc), "clock")


async def _admin_not_found(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotFound)
    return _answer(404, str(exc), "op_id" if exc.what == "operation" else "image_id")


API_HANDLERS: dict[Any, Handler] = {
    ApiError: _api_error,
    NotFound: _not_found,
    AlreadyStarted: _already_started,
    ClientDisconnect: _client_gone,
    HTTPException: _http_error,
    Exception: _server_error,
}

ADMIN_HANDLERS: dict[Any, Handler] = {
    AdminProblem: _admin_problem,
    ConfigError: _config_error,
    ClockError: _clock_error,
    NotFound: _admin_not_found,
    ClientDisconnect: _client_gone,
    HTTPException: _http_error,
    Exception: _server_error,
}
