"""API keys: /keys, /keys/{key}, /keys/{key}/regenerate, and the primary keys of things."""

import json
import re
import secrets

from .. import records
from ..app import created, no_content, ok
from ..errors import Forbidden
from ..params import MISSING, pick
from ..storage import to_json
from ..timefmt import format_optional

VERBS = ("DELETE", "GET", "POST", "PUT")
ACCESS = ("public", "private")
SCOPES = ("device", "distribution", "collection")  # a key with none of these is a master key
MASTER_KEY_RE = re.compile(r"^[\x21-\x7e]{1,128}$")


def new_secret():
    return secrets.token_hex(16)


def insert_key(conn, now, name, permissions=VERBS, primary=False, device_access="public", secret=None, **scope):
    """Store a key; scope is device_id/stream/distribution_id/collection_id. Returns its secret."""
    secret = secret or new_secret()
    conn.execute(
        "INSERT INTO keys (key, name, is_primary, device_id, stream, distribution_id, collection_id,"
        " permissions, expires_at, origin, device_access, created, updated)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            secret, name, int(primary), scope.get("device_id"), scope.get("stream"),
            scope.get("distribution_id"), scope.get("collection_id"), to_json(list(permissions)),
            scope.get("expires_at"), scope.get("origin"), device_access, now, now,
        ),
    )
    return secret


def insert_primary_key(ctx, column, owner_id):
    """The primary key that devices, distributions and collections get on creation."""
    return insert_key(ctx.conn, ctx.now, "Primary Key", primary=True, **{column: owner_id})


def primary_master_key(conn):
    """The secret of the account's primary master key, or None in a new database."""
    row = conn.execute(
        "SELECT key FROM keys WHERE is_primary = 1 AND device_id IS NULL"
        " AND distribution_id IS NULL AND collection_id IS NULL"
    ).fetchone()
    return None if row is None else row["key"]


def ensure_primary_master_key(db, wanted, now):
    """(secret, created): the account's primary master key, made or replaced by `wanted`.

    A new database gets `wanted` or a fresh random key. An existing one keeps its key unless
    `wanted` differs: the operator who starts the server with --master-key means that key.
    """
    if wanted is not None and not MASTER_KEY_RE.match(wanted):
        raise ValueError("a master key is 1 to 128 printable ASCII characters without spaces")
    with db.transaction() as conn:
        current = primary_master_key(conn)
        if current is not None and wanted in (None, current):
            return current, False
        if wanted is not None and conn.execute("SELECT 1 FROM keys WHERE key = ?", (wanted,)).fetchone():
            raise ValueError("the requested master key is already another key of this account")
        if current is not None:
            conn.execute("UPDATE keys SET key = ?, updated = ? WHERE key = ?", (wanted, now, current))
            return wanted, False
        secret = insert_key(conn, now, "Master Key", primary=True, device_access="private", secret=wanted)
        return secret, True


def key_json(ctx, row):
    def owner_url(kind, column):
        return ctx.url("/%s/%s" % (kind, row[column])) if row[column] else None

    return {
        "name": row["name"],
        "key": row["key"],
        "master": not any(row[scope + "_id"] for scope in SCOPES),
        "device": owner_url("devices", "device_id"),
        "distribution": owner_url("distributions", "distribution_id"),
        "collection": owner_url("collections", "collection_id"),
        "stream": row["stream"],
        "expires_at": format_optional(row["expires_at"]),
        "expired": row["expires_at"] is not None and row["expires_at"] <= ctx.now,
        "origin": row["origin"],
        "device_access": row["device_access"],
        "permissions": json.loads(row["permissions"]),
    }


def list_keys(ctx):
    """Keys of one device, distribution or collection; without a filter the master keys."""
    p = ctx.params
    filters = {scope: p.string(scope) for scope in SCOPES}
    p.check()
    given = [(scope, value) for scope, value in filters.items() if value]
    if given:
        clause = " AND ".join("%s_id = ?" % scope for scope, _ in given)
        args = [value for _, value in given]
    else:
        clause = " AND ".join("%s_id IS NULL" % scope for scope in SCOPES)
        args = []
    rows = ctx.query("SELECT * FROM keys WHERE %s ORDER BY id" % clause, args)
    return ok({"keys": [key_json(ctx, row) for row in rows]})


def _permissions(p, required):
    verbs = p.string_list("permissions", required=required)
    if verbs is MISSING:
        return verbs
    verbs = list(dict.fromkeys(verb.upper() for verb in verbs))
    if not verbs:
        return p.fail("permissions", "not_present")
    unknown = [verb for verb in verbs if verb not in VERBS]
    if unknown:
        return p.fail("permissions", "unknown verb %s (use %s)" % (unknown[0], ", ".join(VERBS)))
    return verbs


def _common_fields(p, required):
    return pick(
        name=p.string("name", required=required),
        permissions=_permissions(p, required),
        expires_at=p.timestamp("expires_at", nullable=True),
        origin=p.string("origin", nullable=True),
        device_access=p.string("device_access", choices=ACCESS),
    )


def _scope(ctx):
    """The device/distribution/collection the new key is for (each must exist), and stream."""
    p = ctx.params
    scope = {name: p.string(name) for name in SCOPES}
    stream = p.string("stream", nullable=True)
    # "" names no device but must not mean "no scope": that would make a master key.
    given = {name: value for name, value in scope.items() if value is not MISSING}
    if len(given) > 1:
        p.fail(sorted(given)[0], "only one of device, distribution, collection")
    for name, value in given.items():
        table = name + "s"
        if not ctx.query_one("SELECT 1 FROM %s WHERE id = ?" % table, (value,)):
            p.fail(name, "not_found")
    _check_stream(ctx, stream, given.get("device"))
    columns = {name + "_id": value for name, value in given.items()}
    if stream:
        columns["stream"] = stream
    return columns


def _check_stream(ctx, stream, device_id):
    """A key's stream must be a stream of the key's device (a 422 on the params if not)."""
    if not stream:
        return
    if not device_id:
        ctx.params.fail("stream", "needs a device")
    elif not ctx.query_one("SELECT 1 FROM streams WHERE device_id = ? AND name = ?", (device_id, stream)):
        ctx.params.fail("stream", "not_found")


def create_key(ctx):
    fields = _common_fields(ctx.params, required=True)
    scope = _scope(ctx)
    ctx.params.check()
    secret = insert_key(
        ctx.conn, ctx.now, fields["name"], fields["permissions"],
        device_access=fields.get("device_access", "public"),
        expires_at=fields.get("expires_at"), origin=fields.get("origin"), **scope,
    )
    return created(key_json(ctx, records.key(ctx, secret)), ctx.url("/keys/" + secret))


def get_key(ctx):
    return ok(key_json(ctx, records.key(ctx, ctx.path["key"])))


def _modifiable(ctx):
    row = records.key(ctx, ctx.path["key"])
    if row["is_primary"]:
        raise Forbidden("A primary key can be regenerated but not updated or deleted")
    return row


def update_key(ctx):
    row = _modifiable(ctx)
    p = ctx.params
    fields = _common_fields(p, required=True)
    stream = p.string("stream", nullable=True)
    _check_stream(ctx, stream, row["device_id"])
    p.check()
    if stream is not MISSING:
        fields["stream"] = stream
    fields["permissions"] = to_json(fields["permissions"])
    records.update_fields(ctx, "keys", row["id"], fields)
    return no_content()


def delete_key(ctx):
    row = _modifiable(ctx)
    ctx.execute("DELETE FROM keys WHERE id = ?", (row["id"],))
    return no_content()


def regenerate_key(ctx):
    """A new secret for the same key; the old one stops working at once."""
    row = records.key(ctx, ctx.path["key"])
    secret = new_secret()
    ctx.execute("UPDATE keys SET key = ?, updated = ? WHERE id = ?", (secret, ctx.now, row["id"]))
    return created(key_json(ctx, records.key(ctx, secret)), ctx.url("/keys/" + secret))

