"""The contract's facts the domain works by, read from `openapi.yaml` once per process.

The domain may not import `contracts` (import-linter), so this layer reads the image fields and
the operation `method` of each kind of batch from the contract and hands them down.
"""

from __future__ import annotations

import functools

from contracts.spec import default_contract
from wesog_mock.domain.batch import KINDS, ImageSchema

__all__ = ["image_schema"]


@functools.cache
def image_schema() -> ImageSchema:
    """The packaged contract's `ImageSchema` (immutable, so every fake shares it)."""
    contract = default_contract()
    schemas = contract.document["components"]["schemas"]
    metadata = tuple(schemas["ImageMetadata"]["properties"])
    label = contract.vocabulary.label
    schema = ImageSchema(
        write_fields=("src", *metadata),
        read_fields=tuple(schemas["ImageField"]["enum"]),
        method_of_kind={kind: label[kind] for kind in KINDS},
    )
    # The domain seeds derived fields as integers (`ImageSchema.seeded_record`): hold the
    # contract to that, so a change of type there cannot make the fake answer off its schema.
    read_types = {name: prop.get("type") for part in schemas["Image"]["allOf"]
                  for name, prop in part.get("properties", {}).items()}
    for name in schema.derived_fields:
        if read_types.get(name) != ["integer", "null"]:
            raise ValueError(f"the contract's derived field {name!r} is not an integer or null")
    return schema
