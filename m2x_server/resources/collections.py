"""Collections: a tree of named groups of devices; a collection key reaches the whole subtree."""

import json

from .. import records
from ..app import created, no_content, ok
from ..params import MISSING, pick
from ..storage import new_id, to_json
from ..timefmt import format_ms
from .devices import paginate_devices
from .keys import insert_primary_key


def collection_json(ctx, row):
    def count(sql):
        return ctx.query_one(sql, (row["id"],))[0]

    return {
        "id": row["id"],
        "parent": row["parent_id"],
        "name": row["name"],
        "description": row["description"],
        "devices": count("SELECT count(*) FROM collection_devices WHERE collection_id = ?"),
        "collections": count("SELECT count(*) FROM collections WHERE parent_id = ?"),
        "tags": json.loads(row["tags"]),
        "metadata": json.loads(row["metadata"]),
        "key": records.primary_key(ctx, "collection_id", row["id"]),
        "created": format_ms(row["created"]),
        "updated": format_ms(row["updated"]),
    }


def _fields(ctx, required, collection_id=None):
    p = ctx.params
    fields = pick(
        # An update need not name it, but may not blank it: a collection always has a name.
        name=p.string("name", required=required or "name" in p.data),
        description=p.string("description", nullable=True),
        parent_id=p.string("parent", nullable=True),
        tags=p.string_list("tags", nullable=True),
        metadata=p.mapping("metadata"),
    )
    parent = fields.get("parent_id")
    if parent is not None and not ctx.query_one("SELECT 1 FROM collections WHERE id = ?", (parent,)):
        p.fail("parent", "not_found")
    elif parent and collection_id and parent in records.collection_tree_ids(ctx, collection_id):
        p.fail("parent", "would make a cycle")
    p.check()
    return fields


def create_collection(ctx):
    fields = _fields(ctx, required=True)
    collection_id = new_id()
    ctx.execute(
        "INSERT INTO collections (id, parent_id, name, description, tags, metadata, created, updated)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            collection_id, fields.get("parent_id"), fields["name"], fields.get("description"),
            to_json(fields.get("tags") or []), to_json(fields.get("metadata", {})), ctx.now, ctx.now,
        ),
    )
    insert_primary_key(ctx, "collection_id", collection_id)
    row = records.collection(ctx, collection_id)
    return created(collection_json(ctx, row), ctx.url("/collections/" + collection_id))


def list_collections(ctx):
    """All collections (not paginated, as recorded); filters parent, name, tags."""
    p = ctx.params
    parent, name, tags = p.string("parent"), p.string("name"), p.string_list("tags")
    p.check()
    where, args = "1", []
    if parent is not MISSING:
        where += " AND parent_id = ?"
        args.append(parent)
    if name:
        where += " AND instr(lower(name), lower(?)) > 0"
        args.append(name)
    for tag in tags or []:
        where += " AND EXISTS (SELECT 1 FROM json_each(collections.tags) WHERE value = ?)"
        args.append(tag)
    rows = ctx.query("SELECT * FROM collections WHERE %s ORDER BY rowid" % where, args)
    return ok({"collections": [collection_json(ctx, row) for row in rows]})


def get_collection(ctx):
    return ok(collection_json(ctx, ctx.target))


def update_collection(ctx):
    fields = _fields(ctx, required=False, collection_id=ctx.target["id"])
    records.update_fields(ctx, "collections", ctx.target["id"], fields)
    return no_content()


def delete_collection(ctx):
    """Sub-collections go with it; the devices stay."""
    ctx.execute("DELETE FROM collections WHERE id = ?", (ctx.target["id"],))
    return no_content()


def list_devices(ctx):
    """The devices added to this collection itself."""
    return paginate_devices(
        ctx, "id IN (SELECT device_id FROM collection_devices WHERE collection_id = ?)", (ctx.target["id"],)
    )


def add_device(ctx):
    device = records.device(ctx, ctx.path["device_id"])
    ctx.execute(
        "INSERT OR IGNORE INTO collection_devices (collection_id, device_id) VALUES (?, ?)",
        (ctx.target["id"], device["id"]),
    )
    return no_content()


def remove_device(ctx):
    device = records.device(ctx, ctx.path["device_id"])
    ctx.execute(
        "DELETE FROM collection_devices WHERE collection_id = ? AND device_id = ?", (ctx.target["id"], device["id"])
    )
    return no_content()
