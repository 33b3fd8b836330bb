"""Metadata of devices, distributions and collections: a JSON object of free fields.

Each handler takes the table first (bound in the route table with functools.partial); the
row is the one the route's access rule loaded.
"""

import json

from .. import records
from ..app import no_content, ok
from ..errors import NotFound, invalid


def _owner(ctx):
    return ctx.device if ctx.device is not None else ctx.target


def _metadata(ctx):
    return json.loads(_owner(ctx)["metadata"])


def read_metadata(table, ctx):
    return ok(_metadata(ctx))


def read_field(table, ctx):
    metadata = _metadata(ctx)
    if ctx.path["field"] not in metadata:
        raise NotFound.of("metadata field")
    return ok({"value": metadata[ctx.path["field"]]})


def update_metadata(table, ctx):
    """The fields named in the body change; the others stay."""
    metadata = _metadata(ctx)
    metadata.update(ctx.params.data)
    records.update_fields(ctx, table, _owner(ctx)["id"], {"metadata": metadata})
    return no_content()


def update_field(table, ctx):
    if "value" not in ctx.params.data:
        raise invalid("value", "not_present")
    metadata = _metadata(ctx)
    metadata[ctx.path["field"]] = ctx.params.data["value"]
    records.update_fields(ctx, table, _owner(ctx)["id"], {"metadata": metadata})
    return no_content()
