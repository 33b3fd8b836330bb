"""Loading one row by its id, or the API's 404 naming the resource."""

from .errors import NotFound
from .storage import to_json


def _load(ctx, word, sql, args):
    row = ctx.query_one(sql, args)
    if row is None:
        raise NotFound.of(word)
    return row


def device(ctx, device_id):
    return _load(ctx, "device", "SELECT * FROM devices WHERE id = ?", (device_id,))


def stream(ctx, device_id, name):
    return _load(ctx, "stream", "SELECT * FROM streams WHERE device_id = ? AND name = ?", (device_id, name))


def distribution(ctx, distribution_id):
    return _load(ctx, "distribution", "SELECT * FROM distributions WHERE id = ?", (distribution_id,))


def collection(ctx, collection_id):
    return _load(ctx, "collection", "SELECT * FROM collections WHERE id = ?", (collection_id,))


def key(ctx, secret):
    return _load(ctx, "key", "SELECT * FROM keys WHERE key = ?", (secret,))


def command(ctx, command_id):
    return _load(ctx, "command", "SELECT * FROM commands WHERE id = ?", (command_id,))


def job(ctx, job_id):
    return _load(ctx, "job", "SELECT * FROM jobs WHERE id = ?", (job_id,))


def collection_tree_ids(ctx, collection_id):
    """The collection and all its sub-collections."""
    rows = ctx.query(
        "WITH RECURSIVE tree(id) AS (SELECT ? UNION"
        " SELECT c.id FROM collections c JOIN tree ON c.parent_id = tree.id) SELECT id FROM tree",
        (collection_id,),
    )
    return [row["id"] for row in rows]


def primary_key(ctx, column, owner_id):
    """The secret of the primary key of a device, distribution or collection."""
    row = ctx.query_one("SELECT key FROM keys WHERE is_primary = 1 AND %s = ?" % column, (owner_id,))
    return row["key"]


def update_fields(ctx, table, row_id, fields):
    """UPDATE the named columns (tags and metadata stored as JSON) and the updated time."""
    values = {name: _column_value(name, value) for name, value in fields.items()}
    assignments = "".join("%s = ?, " % name for name in values)
    ctx.execute(
        "UPDATE %s SET %supdated = ? WHERE id = ?" % (table, assignments),
        list(values.values()) + [ctx.now, row_id],
    )


def _column_value(name, value):
    if name == "tags":
        return to_json(value or [])  # tags: null clears them; stored as [] like a new row's
    return to_json(value) if name == "metadata" else value
