"""Operations: one per mutation, answered in the right form, read back without and listed
with their id, flags echoed, defaults as every parameter table says (D6-D9, A5-A8, A12)."""

from __future__ import annotations

from hypothesis import given

from contracts.client import WesogClient
from contracts.conformance._helpers import (
    SRC,
    body_of,
    check,
    finish,
    op_id_of,
    properties,
    rules,
    run,
    seed,
)
from contracts.conformance._session import Target
from contracts.strategies import query_flags


@rules("D1", "D7", "A5", "D8")
def test_async_answers_202_then_the_operation_finishes(wesog_client: WesogClient) -> None:
    image_id = wesog_client.new_id()
    exchange = wesog_client.mutate("POST", "/imgs", [{"id": image_id, "src": SRC}], wait=False)
    check(exchange, exchange.status == 202, "A5", "async answer",
          "wait=false answers 202 with the operation", expected=202, got=exchange.status)
    op = finish(wesog_client, exchange)
    check(exchange, "op_id" not in op, "D8", "GET /ops/{op_id}",
          "the finished operation, without op_id", expected="no op_id", got=op.get("op_id"))
    check(exchange, op["all_good"] is True, "D1", "add of a fresh id",
          "a new image is stored", expected=True, got=op["errors"])


@rules("D7", "A5")
def test_sync_answers_200_with_the_finished_operation_even_when_it_failed(
    wesog_client: WesogClient,
) -> None:
    [image_id] = seed(wesog_client, 1)
    exchange = wesog_client.mutate("POST", "/imgs", [{"id": image_id, "src": SRC}], wait=True,
                                   strict=True)
    body = body_of(exchange)
    check(exchange, exchange.status == 200, "A5", "failed sync operation",
          "a failed operation is still a 200", expected=200, got=exchange.status)
    check(exchange, body.get("is_finished") is True and body.get("all_good") is False, "D7",
          "sync answer", "wait=true answers the finished operation",
          expected=(True, False), got=(body.get("is_finished"), body.get("all_good")))


@rules("D6", "A6", "D8")
def test_every_mutation_creates_its_own_operation_listed_oldest_first(
    wesog_client: WesogClient,
) -> None:
    ids = []
    for method, body in (("POST", [{"id": wesog_client.new_id(), "src": SRC}]),
                         ("PATCH", [{"id": wesog_client.new_id(), "title": "t"}]),
                         ("DELETE", [{"id": wesog_client.new_id()}])):
        exchange, _ = run(wesog_client, method, "/imgs", body)
        ids.append(op_id_of(exchange))
    exchange = wesog_client.list_operations()
    check(exchange, len(set(ids)) == 3, "D6", "op_id reused", "three mutations, three ids",
          got=ids)
    listed = [s.op_id for s in exchange.operations() if s.op_id in ids]
    check(exchange, listed == ids, "A6", "GET /ops", "lists each with op_id, oldest first",
          expected=ids, got=listed)


@rules("D9", "A9")
def test_flags_are_echoed_in_every_spelling(wesog_client: WesogClient,
                                            wesog_target: Target) -> None:
    @properties(wesog_target, 40)
    @given(flags=query_flags())
    def echoed(flags: dict[str, str]) -> None:
        # Async answers only: the client checks the echo (check_echo) on every answer.
        flags = {**flags, "wait": "false"}
        exchange = wesog_client.request("PATCH", "/imgs", query=flags,
                                        json_body=[{"id": wesog_client.new_id(), "src": None}])
        check(exchange, exchange.status == 202, "A9", "boolean spelling refused",
              "FastAPI's booleans are accepted", expected=202, got=exchange.status)

    echoed()


@rules("A12")
def test_wait_and_strict_default_to_false(wesog_client: WesogClient) -> None:
    [image_id] = seed(wesog_client, 1)
    exchange = wesog_client.request("POST", "/imgs", json_body=[{"id": image_id, "src": SRC}])
    check(exchange, exchange.status == 202, "A12", "defaults", "wait defaults to false",
          expected=202, got=exchange.status)
    op = finish(wesog_client, exchange)
    got = (op.get("do_wait"), op.get("do_strict"))  # as GET /ops/{op_id} documents them
    check(exchange, got == (False, False), "A12", "defaults",
          "wait and strict default to false", expected=(False, False), got=got)
    check(exchange, op["all_good"] is True, "A12", "not relaxed by default",
          "an existing id is upserted without strict", expected=True, got=op["errors"])


@rules("D8", "A10")
def test_unknown_operations_are_404(wesog_client: WesogClient) -> None:
    exchange, _ = run(wesog_client, "POST", "/imgs", [{"id": wesog_client.new_id(), "src": SRC}])
    unknown = op_id_of(exchange) + 1_000_000_000
    for exchange in (wesog_client.get_operation(unknown), wesog_client.cancel(unknown)):
        check(exchange, exchange.status == 404, "A10", "unknown operation", "answers 404",
              expected=404, got=exchange.status)


@rules("A8", "D9")
def test_a_finished_operation_cannot_be_cancelled(wesog_client: WesogClient) -> None:
    answer, _ = run(wesog_client, "POST", "/imgs", [{"id": wesog_client.new_id(), "src": SRC}])
    exchange = wesog_client.cancel(op_id_of(answer))
    check(exchange, exchange.status == 409, "A8", "cancel of a finished operation",
          "a started one answers 409", expected=409, got=exchange.status)
    wesog_client.get_operation(op_id_of(answer))  # the log checks that it did not change (D9)


@rules("A7", "D9")
def test_timestamps_and_durations_of_a_larger_batch(wesog_client: WesogClient) -> None:
    batch = [{"id": wesog_client.new_id("ts"), "src": SRC} for _ in range(200)]
    exchange = wesog_client.mutate("POST", "/imgs", batch, wait=False)
    op_id = op_id_of(exchange)
    for _ in range(3):  # every answer is checked against the ones before (A7, D9)
        wesog_client.get_operation(op_id)
    finish(wesog_client, exchange)
    wesog_client.get_operation(op_id)
