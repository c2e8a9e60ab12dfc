"""The Wesog endpoints over HTTP: parse, validate against the contract, call the domain, answer.

Checks run in the order of A13, and the first that fails answers: the API key (401), the body
size (413, from Content-Length or while streaming, never reading more than the limit), the
query and the body's JSON and shape (422), the items per batch (413), the items (422).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from contracts.findings import Finding
from contracts.spec import Contract, Endpoint, parse_json_body
from wesog_mock.controls.context import RequestContext
from wesog_mock.controls.controller import Controller, gc_paused
from wesog_mock.domain.config import MockConfig
from wesog_mock.domain.operations import Mutation
from wesog_mock.http.answers import invalid, json_response, refuse
from wesog_mock.http.middleware import request_context

__all__ = ["wesog_routes"]

_BULK_BODY_BYTES = 1024 * 1024  # bodies this large are accepted with the collector paused


def _tenant(context: RequestContext, controller: Controller) -> str:
    key = context.api_key
    allowed = controller.config.api_keys
    if key is None or (allowed and key not in allowed):
        raise refuse(401, "Missing or unknown API-Key header.")
    return key


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    too_large = f"The request body is larger than the limit of {limit} bytes."
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise refuse(413, too_large)
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
            raise refuse(413, too_large)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class WesogApi:
    """The twelve endpoints of the contract, bound to one controller.

    Each handler parses (raising an ApiError that the app's handlers render), makes one
    controller call, and renders the answer."""

    def __init__(self, controller: Controller, contract: Contract) -> None:
        self.controller = controller
        self._endpoints = {(e.method, e.path): e for e in contract.endpoints}
        self._kind_of_method = contract.vocabulary.kind_of_method  # the contract's one map

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
        context = request_context(request.scope)
        tenant = _tenant(context, controller)
        # An endpoint without a body (DELETE /imgs/{id}) never reads one, as FastAPI does,
        # so it cannot answer the 413 its contract does not document.
        raw = await _read_body(request, config.max_body_bytes) if endpoint.body is not None else b""
        with gc_paused(len(raw) >= _BULK_BODY_BYTES):
            params, document = self._parse(request, context, endpoint, raw, config)
            if image_id is None:
                items = [(item["id"], item) for item in document]  # ids are validated strings
            else:
                items = [(image_id, document if document is not None else {})]
        mutation = Mutation(
            tenant=tenant, kind=self._kind_of_method[request.method], items=items,
            wait=params["wait"], urgent=params["urgent"], strict=params["strict"],
            lang=params["lang"],
        )
        submitted = await controller.execute(mutation, method=request.method, path=context.path)
        if submitted.fault is not None:
            context.fault = submitted.fault  # the journal names the operation fault
        return json_response(200 if submitted.finished else 202, submitted.view)

    def _parse(
        self, request: Request, context: RequestContext, endpoint: Endpoint, raw: bytes,
        config: MockConfig,
    ) -> tuple[dict[str, Any], Any]:
        """The query's values (defaults applied) and the body's document, in A13's order."""
        params, findings = endpoint.parse_query_string(context.query_string)
        problems = [f for f in findings if f.is_violation]
        document: Any = None
        encoding = context.content_encoding
        if endpoint.body is not None and encoding not in (None, "", "identity"):
            # FastAPI would hand the compressed bytes to the JSON decoder; say what is wrong.
            problems.append(Finding(
                "content_encoding", ("header", "Content-Encoding"),
                f"Content-Encoding {encoding!r} is not supported: send the body uncompressed",
                input=encoding,
            ))
        elif endpoint.body is not None:
            document, problem = parse_json_body(raw, context.content_type)
            if problem is not None:
                problems.append(problem)
            else:
                context.parsed_body = (document,)  # the journal checks it as decoded
                body_problems = endpoint.check_body(document, max_items=config.max_batch)
                if body_problems and body_problems[0].status == 413 and not problems:
                    raise refuse(413, body_problems[0].message)
                problems += [f for f in body_problems if f.status == 422]
        if problems:
            raise invalid(problems)
        if config.guide_defaults:  # A12, the overview's reading: sync and strict by default
            given = request.query_params.keys()
            params["wait"] = params["wait"] if "wait" in given else True
            params["strict"] = params["strict"] if "strict" in given else True
        return params, document

    def _get_image(self, request: Request, endpoint: Endpoint, image_id: str) -> Response:
        context = request_context(request.scope)
        tenant = _tenant(context, self.controller)
        params, findings = endpoint.parse_query_string(context.query_string)
        problems = [f for f in findings if f.is_violation]
        if problems:
            raise invalid(problems)
        fields = params.get("fields") or None
        return json_response(200, self.controller.get_image(tenant, image_id, fields))

    async def list_operations(self, request: Request) -> Response:
        tenant = _tenant(request_context(request.scope), self.controller)
        return json_response(200, self.controller.operations(tenant))

    async def operation(self, request: Request) -> Response:
        endpoint = self._endpoint(request, "/ops/{op_id}")
        tenant = _tenant(request_context(request.scope), self.controller)
        path_params, problems = endpoint.parse_path(request.path_params)
        if problems:
            raise invalid(problems)
        op_id: int = path_params["op_id"]
        if request.method == "DELETE":
            return json_response(200, self.controller.cancel(tenant, op_id))
        return json_response(200, self.controller.operation(tenant, op_id))


def wesog_routes(controller: Controller, contract: Contract) -> list[Route]:
    api = WesogApi(controller, contract)
    mutations = ["POST", "PUT", "PATCH", "DELETE"]
    return [
        Route("/imgs", api.batch, methods=mutations),
        Route("/imgs/{image_id}", api.single, methods=["GET", *mutations]),
        Route("/ops", api.list_operations, methods=["GET"]),
        Route("/ops/{op_id}", api.operation, methods=["GET", "DELETE"]),
    ]
