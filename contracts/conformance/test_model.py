"""Against the reference model: random batches of every kind, in every mode, on images that
exist or not (D1-D5, A1-A3); and random sequences of everything (the state machine)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from contracts.client import WesogClient
from contracts.conformance._helpers import SRC, finish, properties, rules, run
from contracts.conformance._session import Target
from contracts.model import KINDS, ImageModel, Kind
from contracts.statemachine import check_image, check_outcome, make_state_machine, run_machine
from contracts.strategies import batches

_SLOTS = st.sampled_from(["0", "1", "2"])


@rules("D1", "D2", "D3", "D4", "D5", "A1", "A2", "A3", "A16", "A17")
def test_batches_do_what_the_model_says(wesog_client: WesogClient, wesog_target: Target) -> None:
    @properties(wesog_target, 60)
    @given(kind=st.sampled_from(KINDS), data=st.data(), strict=st.booleans(),
           wait=st.booleans(), stored=st.sets(_SLOTS))
    def agrees(kind: Kind, data: st.DataObject, strict: bool, wait: bool,
               stored: set[str]) -> None:
        ids = [wesog_client.new_id("m") for _ in range(3)]
        model = ImageModel()
        if stored:
            seeded = [{"id": ids[int(s)], "src": SRC, "title": f"seed {s}"} for s in stored]
            run(wesog_client, "POST", "/imgs", seeded, strict=False)
            model.apply("create", seeded, strict=False)
        batch = [{**item, "id": ids[int(item["id"])]}
                 for item in data.draw(batches(kind, ids=_SLOTS, max_size=6))]
        method = wesog_client.contract.vocabulary.http_method[kind]
        exchange = wesog_client.mutate(method, "/imgs", batch, strict=strict, wait=wait)
        outcome = model.apply(kind, batch, strict=strict)
        check_outcome(exchange, finish(wesog_client, exchange), outcome)
        for image_id in ids:
            read = wesog_client.get_image(image_id)
            check_image(read, image_id, [model.get(image_id)], outcome.rule_for_image(image_id))

    agrees()


@rules("D1", "D2", "D3", "D4", "D5", "D6", "D7", "D8", "D9",
       "A1", "A2", "A3", "A5", "A6", "A7", "A8", "A9", "A13", "A16", "A17")
def test_random_sequences_agree_with_the_model(wesog_client: WesogClient,
                                               wesog_target: Target) -> None:
    extra: dict[str, Any] = {"stateful_step_count": 30}
    machine = make_state_machine(wesog_client)
    run_machine(machine, properties(wesog_target, 50, **extra))
