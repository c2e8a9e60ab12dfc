"""The two servers a throughput benchmark compares, under the same uvicorn settings.

`bare`: a plain Starlette app that does the least any server must do for the same request
(read and parse the JSON body, answer a JSON object of the same size) — the ceiling.
`fake`: the real `create_app()`.

    python benchmarks/_servers.py bare|fake PORT
"""

from __future__ import annotations

import json
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from wesog_mock import MockConfig, create_app

# An operation as the fake answers it: the baseline answers the same bytes.
OPERATION = {
    "op_id": 1, "method": "add", "resource": "image", "num_total": 10, "num_good": 10,
    "num_bad": 0, "is_started": True, "is_finished": True, "all_good": True, "do_wait": True,
    "do_urgent": False, "do_strict": False, "idle_ms": 0.0, "exec_ms": 0.0,
    "created_at": "2026-11-23T10:00:00.000Z", "started_at": "2026-11-23T10:00:00.000Z",
    "finished_at": "2026-11-23T10:00:00.000Z", "errors": [],
}


def bare_app() -> Starlette:
    async def post(request: Request) -> Response:
        document = json.loads(await request.body())
        answer = {**OPERATION, "num_total": len(document)}
        return Response(json.dumps(answer, separators=(",", ":")), 200,
                        media_type="application/json")

    async def get(request: Request) -> Response:
        answer = {k: v for k, v in OPERATION.items() if k != "op_id"}
        return Response(json.dumps(answer, separators=(",", ":")), 200,
                        media_type="application/json")

    return Starlette(routes=[Route("/imgs", post, methods=["POST"]),
                             Route("/ops/{op_id}", get, methods=["GET"])])


def main() -> None:
    which, port = sys.argv[1], int(sys.argv[2])
    app = bare_app() if which == "bare" else create_app(MockConfig(max_batch=200_000))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
