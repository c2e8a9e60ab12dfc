"""Alternative readings: servers that follow every documented rule (D) and read one point the
documentation leaves open (an A rule) otherwise than this project does, as a real server
plausibly could. Each is the unchanged fake behind an ASGI wrapper (`mutant_base`), or with
one domain behaviour patched.

The suite must not call any of them a violation: `wesog-contracts` exits 0 on each (without
`--strict-assumptions`) and reports exactly the rule each reads otherwise as `differs`.
`READINGS` maps each name to that rule; each name is an import string for the suite:
`--wesog-app alternative_readings:cancel_answer_with_op_id`.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import quote, unquote

from mutant_base import Ans, Mutant, Req, fake

from wesog_mock import MockConfig, create_app

__all__ = ["READINGS"]

_JSON = [(b"content-type", b"application/json")]
_READ_ONLY = ("image_id", "height", "width", "n_faces")


def _op_id_in_path(req: Req) -> int | None:
    tail = req.path.rsplit("/", 1)[-1]
    return int(tail) if req.path.startswith("/ops/") and tail.isdigit() else None


def _items(req: Req) -> list[Any] | None:
    document = req.json()
    if req.path == "/imgs":
        return document if isinstance(document, list) else None
    return [document] if isinstance(document, dict) else None


class PatchNullKeeps(Mutant):
    """A1: a PATCH's explicit null leaves the field as it was (many APIs drop nulls)."""

    async def handle(self, req: Req) -> Ans:
        document = req.json()
        if req.method == "PATCH" and req.is_mutation and document is not None:
            for item in document if isinstance(document, list) else [document]:
                if isinstance(item, dict):
                    for key in [k for k, v in item.items() if v is None]:
                        del item[key]
            req = replace(req, body=json.dumps(document).encode())
        return await self.forward(req)


class MessagesInEnglish(Mutant):
    """A2: error messages are always English (the upload guide calls `lang` the language of
    the AI's tags, not of the messages)."""

    async def handle(self, req: Req) -> Ans:
        langs = [v for k, v in req.query if k == "lang"]
        if req.is_mutation and langs and langs[-1] in ("es", "pt", "fr", "ru"):
            req = replace(req, query=[(k, v) for k, v in req.query if k != "lang"]
                          + [("lang", "en")])
        return await self.forward(req)


class PutFirstCopyWins(Mutant):
    """A3: in a PUT batch that names one id twice, the first copy wins (each item is judged
    against the images as they were before the batch, the later copies skipped)."""

    async def handle(self, req: Req) -> Ans:
        items = req.json()
        if req.method == "PUT" and req.path == "/imgs" and isinstance(items, list) \
                and all(isinstance(i, dict) for i in items):
            first: dict[Any, Any] = {}
            for item in items:
                first.setdefault(json.dumps(item.get("id")), item)
            items = [first[json.dumps(item.get("id"))] for item in items]
            req = replace(req, body=json.dumps(items).encode())
        return await self.forward(req)


def urgent_behind_earlier_urgents() -> Any:
    """A4: urgent operations overtake the ordinary ones but queue among themselves in order
    (a priority queue, first in first out within one priority)."""
    app = fake()
    engine = app.state.controller._engine  # the domain's queue, patched on this instance
    submit = engine.submit

    def fifo_submit(mutation: Any, **options: Any) -> Any:
        op = submit(mutation, **options)
        queue: deque[Any] = engine._queue
        if mutation.urgent and op in queue:
            queue.remove(op)
            ahead = 0
            while ahead < len(queue) and queue[ahead].do_urgent:
                ahead += 1
            queue.insert(ahead, op)
        return op

    engine.submit = fifo_submit
    return app


class AcceptedIdOnly(Mutant):
    """A5: `wait=false` answers 202 with only the operation's id, as the delete guide says
    ("an object with the ID of the operation")."""

    def rewrite(self, req: Req, ans: Ans) -> Ans:
        document = ans.json()
        if req.is_mutation and ans.status == 202 and isinstance(document, dict):
            return ans.with_json({"op_id": document["op_id"]})
        return ans


class OpsNewestFirst(Mutant):
    """A6: `GET /ops` lists the newest operation first."""

    def rewrite(self, req: Req, ans: Ans) -> Ans:
        document = ans.json()
        if req.method == "GET" and req.path == "/ops" and isinstance(document, list):
            return ans.with_json(document[::-1])
        return ans


class TimestampsInSeconds(Mutant):
    """A7: timestamps to the second, `2026-11-23T10:00:00Z` (ISO 8601 without fractions)."""

    def rewrite_op(self, req: Req, op: dict[str, Any]) -> None:
        for name in ("created_at", "started_at", "finished_at"):
            if isinstance(op.get(name), str):
                op[name] = op[name][:19] + "Z"


class CancelAnswerWithOpId(Mutant):
    """A8: the cancel answer carries the operation's `op_id`, as a mutation's answer does."""

    def rewrite(self, req: Req, ans: Ans) -> Ans:
        document = ans.json()
        op_id = _op_id_in_path(req)
        if req.method == "DELETE" and op_id is not None and ans.status == 200 \
                and isinstance(document, dict):
            return ans.with_json({"op_id": op_id, **document})
        return ans


# What an empty `src` is stored as inside the fake (which refuses ""), and read back as "".
_EMPTY_SRC = "https://empty-src.invalid/"


class EmptySrcAccepted(Mutant):
    """A9: an empty `src` is stored as sent (no `minLength` on the server's model)."""

    async def handle(self, req: Req) -> Ans:
        items = _items(req)
        if req.is_mutation and req.method in ("POST", "PUT") and items is not None:
            for item in items:
                if isinstance(item, dict) and item.get("src") == "":
                    item["src"] = _EMPTY_SRC
            document = items if req.path == "/imgs" else items[0]
            req = replace(req, body=json.dumps(document).encode())
        ans = await self.forward(req)
        if req.method == "GET" and req.path.startswith("/imgs/"):
            document = ans.json()
            if isinstance(document, dict) and document.get("src") == _EMPTY_SRC:
                return ans.with_json({**document, "src": ""})
        return ans


class UnauthorizedAsMessage(Mutant):
    """A10: a 401 says `{"message": "..."}` rather than FastAPI's `{"detail": "..."}`."""

    def rewrite(self, req: Req, ans: Ans) -> Ans:
        document = ans.json()
        if ans.status == 401 and isinstance(document, dict):
            return ans.with_json({"message": document.get("detail", "Unauthorized")})
        return ans


class TooLargeFromAProxy(Mutant):
    """A11: a 413 comes from a proxy in front of the service, as an HTML page."""

    def rewrite(self, req: Req, ans: Ans) -> Ans:
        if ans.status == 413:
            page = b"<html><body><h1>413 Request Entity Too Large</h1></body></html>"
            return Ans(413, [(b"content-type", b"text/html")], page)
        return ans


class GuideDefaults(Mutant):
    """A12: `wait` and `strict` default to true, as the overview page reads."""

    def __post_init__(self) -> None:
        self.app = create_app(MockConfig(clock="virtual", guide_defaults=True))


class NotFoundBeforeQuery(Mutant):
    """A13: an image read answers 404 for an unknown image before it looks at the query."""

    async def handle(self, req: Req) -> Ans:
        ans = await self.forward(req)
        if req.method == "GET" and req.path.startswith("/imgs/") and ans.status == 422:
            bare = await self.forward(replace(req, query=[]))
            if bare.status == 404:
                return bare
        return ans


def keeps_every_operation() -> Any:
    """A14: finished operations are never forgotten (no retention limit)."""
    app = fake()
    controller = app.state.controller
    configure = controller.configure

    def without_retention(**changes: Any) -> Any:
        changes.pop("max_finished_ops", None)
        return configure(**changes)

    controller.configure = without_retention
    return app


class ProjectionWithId(Mutant):
    """A15: a projection on `fields` also carries the image's `image_id`."""

    def rewrite(self, req: Req, ans: Ans) -> Ans:
        document = ans.json()
        if req.method == "GET" and req.path.startswith("/imgs/") and ans.status == 200 \
                and any(k == "fields" for k, _ in req.query) and isinstance(document, dict):
            return ans.with_json({"image_id": unquote(req.path[len("/imgs/"):]), **document})
        return ans


class UpsertMerges(Mutant):
    """A16: a relaxed add of an existing id merges the item into the stored record."""

    async def handle(self, req: Req) -> Ans:
        items = _items(req)
        if req.method == "POST" and req.is_mutation and not req.flag("strict") \
                and items is not None and all(isinstance(i, dict) for i in items):
            merged = []
            for item in items:
                image_id = item.get("id") if req.path == "/imgs" else unquote(req.path[6:])
                stored = await self._stored(req, image_id)
                merged.append({**stored, **item} if stored is not None else item)
            document = merged if req.path == "/imgs" else merged[0]
            req = replace(req, body=json.dumps(document).encode())
        return await self.forward(req)

    async def _stored(self, req: Req, image_id: Any) -> dict[str, Any] | None:
        if not isinstance(image_id, str) or not image_id:
            return None
        read = await self.forward(Req("GET", "/imgs/" + quote(image_id, safe=""), [],
                                      {k: v for k, v in req.headers.items()
                                       if k not in ("content-type", "content-length")}, b""))
        document = read.json()
        if read.status != 200 or not isinstance(document, dict):
            return None
        return {k: v for k, v in document.items() if k not in _READ_ONLY}


class StrictDeleteOfMissingFails(Mutant):
    """A17: a strict delete fails the items whose id does not exist, as the delete guide says
    (all or nothing, so nothing is deleted). Sent to the fake as a strict PATCH of the same
    ids, which fails exactly those items, and labelled `del`."""

    def __post_init__(self) -> None:
        self.relabelled: set[tuple[str, int]] = set()

    async def handle(self, req: Req) -> Ans:
        if req.method == "DELETE" and req.path.startswith("/imgs") and req.flag("strict"):
            ids = self._ids(req)
            if ids is not None and not await self._all_exist(req, ids):
                body: Any = [{"id": i} for i in ids] if req.path == "/imgs" else {}
                patch = replace(req, method="PATCH", body=json.dumps(body).encode(),
                                headers={**req.headers, "content-type": "application/json"})
                ans = await self.forward(patch)
                document = ans.json()
                if isinstance(document, dict) and isinstance(document.get("op_id"), int):
                    self.relabelled.add((req.headers.get("api-key", ""), document["op_id"]))
                return self.rewrite(req, ans)
        return self.rewrite(req, await self.forward(req))

    def rewrite_op(self, req: Req, op: dict[str, Any]) -> None:
        op_id = op.get("op_id", _op_id_in_path(req))
        if (req.headers.get("api-key", ""), op_id) in self.relabelled:
            op["method"] = "del"

    def _ids(self, req: Req) -> list[str] | None:
        if req.path != "/imgs":
            return [unquote(req.path[len("/imgs/"):])]
        items = req.json()
        if not isinstance(items, list) or not items:
            return None
        ids = [i.get("id") if isinstance(i, dict) else None for i in items]
        return ids if all(isinstance(i, str) and i for i in ids) else None  # type: ignore[return-value]

    async def _all_exist(self, req: Req, ids: list[str]) -> bool:
        headers = {k: v for k, v in req.headers.items()
                   if k not in ("content-type", "content-length")}
        for image_id in ids:
            read = await self.forward(Req("GET", "/imgs/" + quote(image_id, safe=""), [],
                                          headers, b""))
            if read.status != 200:
                return False
        return True


def _factory(cls: type[Mutant]) -> Callable[[], Mutant]:
    def make() -> Mutant:
        return cls()

    make.__name__ = make.__qualname__ = cls.__name__
    return make


_WRAPPERS: dict[str, tuple[type[Mutant], str]] = {
    "patch_null_keeps": (PatchNullKeeps, "A1"),
    "messages_in_english": (MessagesInEnglish, "A2"),
    "put_first_copy_wins": (PutFirstCopyWins, "A3"),
    "accepted_id_only": (AcceptedIdOnly, "A5"),
    "ops_newest_first": (OpsNewestFirst, "A6"),
    "timestamps_in_seconds": (TimestampsInSeconds, "A7"),
    "cancel_answer_with_op_id": (CancelAnswerWithOpId, "A8"),
    "empty_src_accepted": (EmptySrcAccepted, "A9"),
    "unauthorized_as_message": (UnauthorizedAsMessage, "A10"),
    "too_large_from_a_proxy": (TooLargeFromAProxy, "A11"),
    "guide_defaults": (GuideDefaults, "A12"),
    "not_found_before_query": (NotFoundBeforeQuery, "A13"),
    "projection_with_id": (ProjectionWithId, "A15"),
    "upsert_merges": (UpsertMerges, "A16"),
    "strict_delete_of_missing_fails": (StrictDeleteOfMissingFails, "A17"),
}

# Every reading by name, with the one rule it reads otherwise.
READINGS: dict[str, str] = {
    **{name: rule for name, (_, rule) in _WRAPPERS.items()},
    "urgent_behind_earlier_urgents": "A4",
    "keeps_every_operation": "A14",
}

# One factory per wrapper, so each is an import string.
globals().update({name: _factory(cls) for name, (cls, _) in _WRAPPERS.items()})
