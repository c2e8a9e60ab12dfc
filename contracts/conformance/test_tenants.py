"""Tenants: the API key is the tenant; nothing of one is visible to another (D8, A10).
Needs `--wesog-api-key-2`; skipped without it.

Operations are documented per tenant (D8: "for a particular tenant"); that images are too,
and that their ids are scoped by tenant, is A10's reading; the cancel endpoint is A8's."""

from __future__ import annotations

from contracts.client import WesogClient
from contracts.conformance._helpers import SRC, check, op_id_of, read, rules, run, seed


@rules("D8", "A8", "A10")
def test_tenants_see_nothing_of_each_other(wesog_client: WesogClient,
                                           wesog_client_2: WesogClient) -> None:
    [image_id] = seed(wesog_client, 1, title="first tenant")
    answer, _ = run(wesog_client, "PATCH", "/imgs", [{"id": image_id, "title": "still first"}])
    op_id = op_id_of(answer)
    other_op = wesog_client_2.get_operation(op_id)
    check(other_op, other_op.status == 404, "D8", "operation leaked",
          "another tenant's operation is 404", expected=404, got=other_op.status)
    listed = wesog_client_2.list_operations()
    leaked = [s.op_id for s in listed.operations() if s.op_id == op_id]
    check(listed, not leaked, "D8", "operation listed", "GET /ops lists only the tenant's",
          expected=[], got=leaked)
    cancel = wesog_client_2.cancel(op_id)
    check(cancel, cancel.status == 404, "A8", "cancel across tenants",
          "another tenant's operation is 404", expected=404, got=cancel.status)
    # The image last: the documented rule (D8) is named first when a server breaks both.
    other_image = wesog_client_2.get_image(image_id)
    check(other_image, other_image.status == 404, "A10", "image leaked",
          "another tenant's image is 404", expected=404, got=other_image.status)


@rules("A10")
def test_the_same_id_in_two_tenants_is_two_images(wesog_client: WesogClient,
                                                  wesog_client_2: WesogClient) -> None:
    [image_id] = seed(wesog_client, 1, title="one")
    exchange, op = run(wesog_client_2, "POST", "/imgs",
                       [{"id": image_id, "src": SRC, "title": "two"}], strict=True)
    check(exchange, op["all_good"] is True, "A10", "strict add across tenants",
          "the id exists only in the other tenant", expected=True, got=op["errors"])
    run(wesog_client_2, "DELETE", wesog_client_2.image_path(image_id))
    title = (read(wesog_client, image_id) or {}).get("title")
    check(exchange, title == "one", "A10", "tenant leak", "the first tenant's image is intact",
          expected="one", got=title)
