"""Commands: sent by a master key to devices, each device processes or rejects its copy."""

from .. import records
from ..app import accepted, no_content, ok
from ..errors import NotFound, invalid
from ..paging import DIRECTIONS, paginate
from ..params import MISSING, Params
from ..storage import from_json, new_id, to_json
from ..timefmt import format_ms, format_optional
from .ranges import range_clause, time_range

STATUSES = ("pending", "processed", "rejected")
FINISHED_AT = {"processed": "processed_at", "rejected": "rejected_at"}
MAX_LIMIT = 1000


def send_command(ctx):
    """202 with the new command's Location; targets {"devices": [ids]}."""
    p = ctx.params
    name = p.string("name", required=True)
    data = p.mapping("data", nullable=True)
    targets = p.mapping("targets", required=True)
    device_ids = _target_devices(ctx, targets) if targets else []
    p.check()
    command_id = new_id()
    ctx.execute(
        "INSERT INTO commands (id, name, data, sent_at) VALUES (?, ?, ?, ?)",
        (command_id, name, to_json(None if data is MISSING else data), ctx.now),
    )
    ctx.conn.executemany(
        "INSERT INTO command_deliveries (command_id, device_id) VALUES (?, ?)",
        [(command_id, device_id) for device_id in device_ids],
    )
    return accepted(ctx.url("/commands/" + command_id))


def _target_devices(ctx, targets):
    p = ctx.params
    if set(targets) - {"devices"}:
        p.fail("targets", "only 'devices' targets are supported")
    device_ids = list(dict.fromkeys(Params(targets).string_list("devices") or []))
    if not device_ids:
        p.fail("targets", "devices not_present")
    for device_id in device_ids:
        if not ctx.query_one("SELECT 1 FROM devices WHERE id = ?", (device_id,)):
            p.fail("targets", "device %s not found" % device_id)
    return device_ids


def _filters(ctx, column_prefix=""):
    """SQL for the list filters name, start and end (on sent_at), and the order from dir."""
    name = ctx.params.string("name")
    direction = ctx.params.string("dir", choices=DIRECTIONS) or "asc"
    start, end = time_range(ctx)
    sql, args = range_clause(start, end, column_prefix + "sent_at")
    if name:
        sql += " AND %sname = ?" % column_prefix
        args.append(name)
    return sql, args, "%ssent_at %s" % (column_prefix, direction.upper())


def command_json(ctx, row, detail=False):
    counts = dict.fromkeys(STATUSES, 0)
    for status_row in ctx.query(
        "SELECT status, count(*) AS n FROM command_deliveries WHERE command_id = ? GROUP BY status", (row["id"],)
    ):
        counts[status_row["status"]] = status_row["n"]
    body = {
        "id": row["id"],
        "url": ctx.url("/commands/" + row["id"]),
        "name": row["name"],
        "sent_at": format_ms(row["sent_at"]),
        "status_counts": counts,
    }
    if detail:
        body["data"] = from_json(row["data"])
    return body


def list_commands(ctx):
    where, args, order = _filters(ctx)
    rows = ctx.query("SELECT * FROM commands WHERE 1%s ORDER BY %s, rowid" % (where, order), args)
    return paginate(ctx, "commands", rows, command_json, min_limit=1, max_limit=MAX_LIMIT)


def get_command(ctx):
    return ok(command_json(ctx, records.command(ctx, ctx.path["command"]), detail=True))


# The device's side: /devices/{id}/commands


def device_command_json(ctx, row, detail=False):
    body = {
        "id": row["id"],
        "url": ctx.url("/devices/%s/commands/%s" % (row["device_id"], row["id"])),
        "name": row["name"],
        "sent_at": format_ms(row["sent_at"]),
        "status": row["status"],
        "received_at": format_optional(row["received_at"]),
        "processed_at": format_optional(row["processed_at"]),
        "rejected_at": format_optional(row["rejected_at"]),
    }
    if detail:
        body["data"] = from_json(row["data"])
        body["response_data"] = from_json(row["response_data"])
    return body


_DELIVERIES = (
    "SELECT c.*, d.device_id, d.status, d.received_at, d.processed_at, d.rejected_at, d.response_data"
    " FROM commands c JOIN command_deliveries d ON d.command_id = c.id WHERE d.device_id = ?"
)


def list_device_commands(ctx):
    where, args, order = _filters(ctx, "c.")
    status = ctx.params.string("status", choices=STATUSES)
    if status:
        where += " AND d.status = ?"
        args.append(status)
    rows = ctx.query("%s%s ORDER BY %s, c.rowid" % (_DELIVERIES, where, order), [ctx.device["id"]] + args)
    return paginate(ctx, "commands", rows, device_command_json, min_limit=1, max_limit=MAX_LIMIT)


def _delivery(ctx):
    row = ctx.query_one(_DELIVERIES + " AND c.id = ?", (ctx.device["id"], ctx.path["command"]))
    if row is None:
        raise NotFound.of("command")
    return row


def _update_delivery(ctx, fields):
    """Set the given columns of this device's copy; it counts as received from now on."""
    assignments = "".join("%s = ?, " % column for column in fields)
    ctx.execute(
        "UPDATE command_deliveries SET %sreceived_at = coalesce(received_at, ?)"
        " WHERE command_id = ? AND device_id = ?" % assignments,
        list(fields.values()) + [ctx.now, ctx.path["command"], ctx.device["id"]],
    )


def get_device_command(ctx):
    """The command with its data; the first view marks it received (404 if the device has none)."""
    _update_delivery(ctx, {})
    return ok(device_command_json(ctx, _delivery(ctx), detail=True))


def _finish(ctx, status):
    row = _delivery(ctx)
    if row["status"] != "pending":
        raise invalid("status", "the command was already %s" % row["status"])
    response_data = ctx.params.data or None
    _update_delivery(ctx, {
        "status": status,
        FINISHED_AT[status]: ctx.now,
        "response_data": None if response_data is None else to_json(response_data),
    })
    return no_content()


def process_command(ctx):
    return _finish(ctx, "processed")


def reject_command(ctx):
    return _finish(ctx, "rejected")

