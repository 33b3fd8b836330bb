"""Distributions: groups of devices sharing a template; their key may register devices."""

import json

from .. import records
from ..app import created, no_content, ok
from ..paging import order_by, paginate
from ..storage import new_id, to_json
from ..timefmt import format_ms
from .devices import check_serial_free, device_fields, device_json, insert_device, paginate_devices
from .keys import insert_primary_key


def distribution_json(ctx, row):
    total = ctx.query_one("SELECT count(*) FROM devices WHERE distribution_id = ?", (row["id"],))[0]
    return {
        "id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "visibility": row["visibility"],
        "serial": row["serial"],
        "status": row["status"],
        "url": ctx.url("/distributions/" + row["id"]),
        "key": records.primary_key(ctx, "distribution_id", row["id"]),
        "created": format_ms(row["created"]),
        "updated": format_ms(row["updated"]),
        # Devices are registered when added; unregistered (pre-provisioned) ones don't exist here.
        "devices": {"total": total, "registered": total, "unregistered": 0},
        "tags": json.loads(row["tags"]),
    }


def create_distribution(ctx):
    # A distribution has the writable fields of a device.
    fields = device_fields(ctx.params, required=True)
    ctx.params.check()
    distribution_id = new_id()
    ctx.execute(
        "INSERT INTO distributions (id, name, description, visibility, serial, status, tags, metadata,"
        " created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            distribution_id, fields["name"], fields.get("description"), fields["visibility"],
            fields.get("serial"), fields.get("status", "enabled"), to_json(fields.get("tags") or []),
            to_json(fields.get("metadata", {})), ctx.now, ctx.now,
        ),
    )
    insert_primary_key(ctx, "distribution_id", distribution_id)
    row = records.distribution(ctx, distribution_id)
    return created(distribution_json(ctx, row), ctx.url("/distributions/" + distribution_id))


def list_distributions(ctx):
    order = order_by(ctx, {"created": "created", "name": "name COLLATE NOCASE"}, "created")
    ctx.params.check()
    rows = ctx.query("SELECT * FROM distributions ORDER BY %s" % order)
    return paginate(ctx, "distributions", rows, distribution_json)


def get_distribution(ctx):
    return ok(distribution_json(ctx, ctx.target))


def update_distribution(ctx):
    """PUT needs name and visibility [C]; the other fields change only when named."""
    fields = device_fields(ctx.params, required=True)
    ctx.params.check()
    records.update_fields(ctx, "distributions", ctx.target["id"], fields)
    return no_content()


def delete_distribution(ctx):
    """Its keys go with it; its devices stay, no longer part of a distribution."""
    ctx.execute("DELETE FROM distributions WHERE id = ?", (ctx.target["id"],))
    return no_content()


def list_devices(ctx):
    return paginate_devices(ctx, "distribution_id = ?", (ctx.target["id"],))


def add_device(ctx):
    """A new device with this serial; unnamed fields come from the distribution."""
    distribution = ctx.target
    p = ctx.params
    fields = device_fields(p, required=False)
    if not (fields.get("serial") or "").strip() and "serial" not in p.errors:  # required here
        p.fail("serial", "not_present")
    check_serial_free(ctx, fields.get("serial"))
    p.check()
    for name in ("name", "visibility", "description"):
        fields.setdefault(name, distribution[name])
    fields.setdefault("tags", json.loads(distribution["tags"]))
    row = insert_device(ctx, fields, distribution["id"])
    return created(device_json(ctx, row), ctx.url("/devices/" + row["id"]))
