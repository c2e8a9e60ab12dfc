"""What the fake learns of one request, parsed once and shared by everything that observes it.

The controls middleware makes one `RequestContext` per request (outside `/_mock/`) from the
ASGI scope; the route fills in what it decoded (the body, the operation fault that fired);
the journal records it once the answer is sent. Plain data: no ASGI, no Starlette.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wesog_mock.controls.faults import FaultRule

__all__ = ["RequestContext"]


@dataclass(slots=True, kw_only=True)
class RequestContext:
    """One request as the fake's controls see it.

    Attributes:
        at_ms: when it arrived, on the fake's clock.
        method, path, query_string: as the server received them.
        api_key: the `API-Key` header, stripped; None when missing or empty.
        content_type: the `Content-Type` header, if any.
        content_encoding: the `Content-Encoding` header, if any.
        declared_length: the `Content-Length` header, when it is a number.
        chunked: whether the body came with `Transfer-Encoding: chunked`.
        chunks: the body as read, up to the body limit; `body_bytes` counts all of it.
        body_complete: the whole body was read, within the limit.
        parsed_body: the body as the route decoded it (a 1-tuple), when it did.
        status: the answer's status, once sent; None while unanswered or when dropped.
        dropped: a fault dropped the connection.
        fault: the request or operation fault that fired on it.
        latency_ms: how long the answer took, in wall time.
    """

    at_ms: float
    method: str
    path: str
    query_string: bytes
    api_key: str | None
    content_type: str | None
    content_encoding: str | None = None
    declared_length: int | None
    chunked: bool
    chunks: list[bytes] = field(default_factory=list)
    body_bytes: int = 0
    body_complete: bool = False
    parsed_body: tuple[Any] | None = None
    status: int | None = None
    dropped: bool = False
    fault: FaultRule | None = None
    latency_ms: float = 0.0
