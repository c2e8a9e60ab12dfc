"""The Wesog endpoints over HTTP: parse, validate against the contract, call the domain, answer.

Checks run in the order of A13, and the first that fails answers: the API key (401), the body
size (413, from Content-Length or while streaming, never reading more than the limit), the
query and the body's JSON and shape (422), the items per batch (413), the items (422).
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from contracts.findings import Finding
from contracts.spec import Contract, Endpoint, parse_json_body
from wesog_mock.controls.controller import Controller
from wesog_mock.controls.faults import OPERATION_FAULT_KEY
from wesog_mock.controls.journal import PARSED_BODY_KEY
from wesog_mock.domain.batch import BatchKind, read_view
from wesog_mock.domain.engine import AlreadyStarted, NotFound
from wesog_mock.domain.operations import Operation

__all__ = ["json_response", "wesog_routes"]

_BULK_BODY_BYTES = 1024 * 1024  # bodies this large are accepted with the collector paused
_KIND_OF_METHOD: dict[str, BatchKind] = {
    "POST": "create", "PUT": "replace", "PATCH": "merge", "DELETE": "delete",
}


def json_response(status: int, content: Any, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status, headers, media_type="application/json")


class Refusal(Exception):
    """An answer that ends a request early (401, 404, 409, 413, 422)."""

    def __init__(self, status: int, content: Any) -> None:
        self.response = json_response(status, content)


def _detail(status: int, message: str) -> Refusal:
    return Refusal(status, {"detail": message})


def _invalid(findings: list[Finding]) -> Refusal:
    return Refusal(422, {"detail": [f.as_fastapi_error() for f in findings]})


def _tenant(request: Request, controller: Controller) -> str:
    key = request.headers.get("api-key", "").strip()
    allowed = controller.config.api_keys
    if not key or (allowed and key not in allowed):
        raise _detail(401, "Missing or unknown API-Key header.")
    return key


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    too_large = f"The request body is larger than the limit of {limit} bytes."
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _detail(413, too_large)
    # Straight from ASGI `receive`: the same as `request.stream()`, without its overhead.
    chunks: list[bytes] = []
    size = 0
    receive = request.receive
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _detail(413, too_large)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


@contextmanager
def _gc_paused(pause: bool) -> Iterator[None]:
    """Hold the cyclic garbage collector off while a large batch is decoded and applied.

    That work allocates hundreds of thousands of objects and no reference cycles, yet each
    allocation burst makes the collector walk the whole heap again: pausing it made a
    100,000-image batch several times faster to accept. The first pauser re-enables it."""
    was_enabled = pause and gc.isenabled()
    if was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class WesogApi:
    """The twelve endpoints of the contract, bound to one controller."""

    def __init__(self, controller: Controller, contract: Contract) -> None:
        self.controller = controller
        self._endpoints = {(e.method, e.path): e for e in contract.endpoints}

    def _endpoint(self, request: Request, path: str) -> Endpoint:
        method = "GET" if request.method == "HEAD" else request.method
        return self._endpoints[(method, path)]

    async def batch(self, request: Request) -> Response:
        return await self._mutate(request, self._endpoint(request, "/imgs"), None)

    async def single(self, request: Request) -> Response:
        endpoint = self._endpoint(request, "/imgs/{image_id}")
        image_id: str = request.path_params["image_id"]
        if request.method in ("GET", "HEAD"):
            return self._get_image(request, endpoint, image_id)
        return await self._mutate(request, endpoint, image_id)

    async def _mutate(self, request: Request, endpoint: Endpoint, image_id: str | None) -> Response:
        controller = self.controller
        config = controller.config
        try:
            tenant = _tenant(request, controller)
            # An endpoint without a body (DELETE /imgs/{id}) never reads one, as FastAPI does,
            # so it cannot answer the 413 its contract does not document.
            raw = (
                await _read_body(request, config.max_body_bytes)
                if endpoint.body is not None else b""
            )
        except Refusal as refusal:
            return refusal.response
        with _gc_paused(len(raw) >= _BULK_BODY_BYTES):
            accepted = self._accept(request, endpoint, image_id, tenant, raw)
        if isinstance(accepted, Response):
            return accepted
        op = accepted
        finished = await controller.wait_finished(
            op, op.created_ms + config.sync_timeout_s * 1000.0
        )
        with controller.locked() as engine:
            view = op.view(engine.now_ms, with_id=True)
        return json_response(200 if finished else 202, view)

    def _accept(
        self, request: Request, endpoint: Endpoint, image_id: str | None, tenant: str, raw: bytes
    ) -> Response | Operation:
        """Validate, submit and run what is due: the answer, or the operation to wait for."""
        controller = self.controller
        config = controller.config
        try:
            params, findings = endpoint.parse_query_string(request.scope["query_string"])
            problems = [f for f in findings if f.is_violation]
            document: Any = None
            if endpoint.body is not None:
                document, problem = parse_json_body(raw, request.headers.get("content-type"))
                if problem is not None:
                    problems.append(problem)
                else:
                    request.scope[PARSED_BODY_KEY] = (document,)  # the journal checks it as is
                    body_problems = endpoint.check_body(document, max_items=config.max_batch)
                    if body_problems and body_problems[0].status == 413 and not problems:
                        raise _detail(413, body_problems[0].message)
                    problems += [f for f in body_problems if f.status == 422]
            if problems:
                raise _invalid(problems)
        except Refusal as refusal:
            return refusal.response

        if config.guide_defaults:  # A12, the overview's reading: sync and strict by default
            given = request.query_params.keys()
            params["wait"] = params["wait"] if "wait" in given else True
            params["strict"] = params["strict"] if "strict" in given else True
        kind = _KIND_OF_METHOD[request.method]
        if image_id is None:
            items = [(item["id"], item) for item in document]  # ids are validated strings
        else:
            items = [(image_id, document if document is not None else {})]
        wait: bool = params["wait"]
        fault = controller.faults.for_operation(request.method, request.scope["path"], tenant)
        if fault is not None:
            request.scope[OPERATION_FAULT_KEY] = fault  # the journal names the fault
        with controller.locked() as engine:
            op = engine.submit(
                tenant, kind, items, wait=wait, urgent=params["urgent"],
                strict=params["strict"], lang=params["lang"],
                fault=None if fault is None else fault.operation_fault,
                fail_reason="" if fault is None else fault.reason,
            )
            now = engine.now_ms  # the operation's creation: its start cannot come before it
            # A vanished operation never finishes: waiting for it would only end in the 202.
            if not wait or (fault is not None and fault.kind == "vanish"):
                queued = op.view(now, with_id=True)  # as queued: it runs after the answer
                engine.run_until(now)
                return json_response(202, queued)
            engine.run_until(now)
            if op.finished:  # with no delays it already has
                return json_response(200, op.view(now, with_id=True))
        return op

    def _get_image(self, request: Request, endpoint: Endpoint, image_id: str) -> Response:
        controller = self.controller
        try:
            tenant = _tenant(request, controller)
            params, findings = endpoint.parse_query_string(request.scope["query_string"])
            problems = [f for f in findings if f.is_violation]
            if problems:
                raise _invalid(problems)
            with controller.locked() as engine:
                try:
                    record = engine.get_image(tenant, image_id)
                except NotFound:
                    raise _detail(404, f"Image '{image_id}' not found.") from None
            fields = params.get("fields") or None
            return json_response(200, read_view(image_id, record, fields))
        except Refusal as refusal:
            return refusal.response

    async def list_operations(self, request: Request) -> Response:
        controller = self.controller
        try:
            tenant = _tenant(request, controller)
        except Refusal as refusal:
            return refusal.response
        with controller.locked() as engine:
            now = engine.now_ms
            views = [op.view(now, with_id=True) for op in engine.list_operations(tenant)]
        return json_response(200, views)

    async def operation(self, request: Request) -> Response:
        controller = self.controller
        endpoint = self._endpoint(request, "/ops/{op_id}")
        try:
            tenant = _tenant(request, controller)
            path_params, problems = endpoint.parse_path(request.path_params)
            if problems:
                raise _invalid(problems)
            op_id: int = path_params["op_id"]
            with controller.locked() as engine:
                try:
                    op = (
                        engine.cancel(tenant, op_id)
                        if request.method == "DELETE"
                        else engine.get_operation(tenant, op_id)
                    )
                except NotFound:
                    raise _detail(404, f"Operation {op_id} not found.") from None
                except AlreadyStarted:
                    raise _detail(
                        409, f"Operation {op_id} has already started and cannot be cancelled."
                    ) from None
                return json_response(200, op.view(engine.now_ms, with_id=False))
        except Refusal as refusal:
            return refusal.response


def wesog_routes(controller: Controller, contract: Contract) -> list[Route]:
    api = WesogApi(controller, contract)
    mutations = ["POST", "PUT", "PATCH", "DELETE"]
    return [
        Route("/imgs", api.batch, methods=mutations),
        Route("/imgs/{image_id}", api.single, methods=["GET", *mutations]),
        Route("/ops", api.list_operations, methods=["GET"]),
        Route("/ops/{op_id}", api.operation, methods=["GET", "DELETE"]),
    ]
