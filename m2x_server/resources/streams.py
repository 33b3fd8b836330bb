"""Streams (/devices/{id}/streams/{name}) and their values, sampling and stats."""

import math
import re
import statistics

from .. import records
from ..app import accepted, created, no_content, ok
from ..errors import invalid
from ..params import MISSING, pick
from ..timefmt import format_ms, format_optional
from .ranges import range_clause, time_range
from .values import DEFAULT_LIMIT, MAX_LIMIT, parse_entry, store_value

TYPES = ("numeric", "alphanumeric")
# Not "." or "..": clients resolve those path segments, so the stream's URL would be unreachable.
NAME_RE = re.compile(r"^(?!\.\.?$)[A-Za-z0-9_.\-]{1,128}$")
SAMPLING_TYPES = ("nth", "min", "max", "count", "avg", "sum", "stddev")
# The recorded sampling without a type returned averages over interval-aligned buckets.
DEFAULT_SAMPLING_TYPE = "avg"
AGGREGATES = {
    "min": min,
    "max": max,
    "count": len,
    "sum": math.fsum,
    "avg": statistics.fmean,
    "stddev": statistics.pstdev,
}


def _newest(ctx, device_id, name):
    return ctx.query_one(
        "SELECT ts, value FROM stream_values WHERE device_id = ? AND stream = ? ORDER BY ts DESC LIMIT 1",
        (device_id, name),
    )


def stream_json(ctx, row):
    newest = _newest(ctx, row["device_id"], row["name"])
    return {
        "name": row["name"],
        "display_name": row["display_name"],
        "value": newest["value"] if newest else None,
        "latest_value_at": format_optional(newest["ts"] if newest else None),
        "type": row["type"],
        "unit": {"label": row["unit_label"], "symbol": row["unit_symbol"]},
        "url": ctx.url("/devices/%s/streams/%s" % (row["device_id"], row["name"])),
        "created": format_ms(row["created"]),
        "updated": format_ms(row["updated"]),
    }


def _stream(ctx):
    return records.stream(ctx, ctx.device["id"], ctx.path["stream"])


def list_streams(ctx):
    rows = ctx.query("SELECT * FROM streams WHERE device_id = ? ORDER BY rowid", (ctx.device["id"],))
    return ok({"streams": [stream_json(ctx, row) for row in rows]})


def get_stream(ctx):
    return ok(stream_json(ctx, _stream(ctx)))


def _stream_fields(p):
    fields = pick(type=p.string("type", choices=TYPES), display_name=p.string("display_name", nullable=True))
    unit = p.mapping("unit", nullable=True)
    if unit is None:
        fields.update(unit_label=None, unit_symbol=None)
    elif unit is not MISSING:
        for part in ("label", "symbol"):
            if part in unit:
                if unit[part] is not None and not isinstance(unit[part], str):
                    p.fail("unit", "%s: not_a_string" % part)
                fields["unit_" + part] = unit[part]
    return fields


def put_stream(ctx):
    """201 and the stream when it is new, 204 when it existed (its named fields change)."""
    name = ctx.path["stream"]
    existing = ctx.query_one("SELECT * FROM streams WHERE device_id = ? AND name = ?", (ctx.device["id"], name))
    fields = _stream_fields(ctx.params)
    if existing is None:
        return _create_stream(ctx, name, fields)
    if fields.get("type", existing["type"]) != existing["type"] and _newest(ctx, ctx.device["id"], name):
        ctx.params.fail("type", "cannot change while the stream has values")
    ctx.params.check()
    assignments = "".join("%s = ?, " % column for column in fields)
    ctx.execute(
        "UPDATE streams SET %supdated = ? WHERE device_id = ? AND name = ?" % assignments,
        list(fields.values()) + [ctx.now, ctx.device["id"], name],
    )
    return no_content()


def _create_stream(ctx, name, fields):
    if not NAME_RE.match(name):
        ctx.params.fail("name", "use 1 to 128 letters, digits, '_', '-' or '.' (not '.' or '..' alone)")
    ctx.params.check()
    ctx.execute(
        "INSERT INTO streams (device_id, name, display_name, type, unit_label, unit_symbol, created, updated)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            ctx.device["id"], name, fields.get("display_name"), fields.get("type", "numeric"),
            fields.get("unit_label"), fields.get("unit_symbol"), ctx.now, ctx.now,
        ),
    )
    row = _stream(ctx)
    return created(stream_json(ctx, row), ctx.url("/devices/%s/streams/%s" % (ctx.device["id"], name)))


def delete_stream(ctx):
    _stream(ctx)
    ctx.execute("DELETE FROM streams WHERE device_id = ? AND name = ?", (ctx.device["id"], ctx.path["stream"]))
    return no_content()


def _value_rows(ctx, stream, start, end, limit=None):
    """The stream's (ts, value) rows in range and within min/max, newest first."""
    p = ctx.params
    bounds, args = range_clause(start, end)
    for name, operator in (("min", ">="), ("max", "<=")):
        bound = p.number(name)
        if bound is not MISSING:
            if stream["type"] != "numeric":
                p.fail(name, "numeric streams only")
            bounds += " AND value %s ?" % operator
            args.append(bound)
    p.check()
    sql = "SELECT ts, value FROM stream_values WHERE device_id = ? AND stream = ?%s ORDER BY ts DESC" % bounds
    args = [stream["device_id"], stream["name"]] + args
    if limit is not None:
        sql += " LIMIT ?"
        args.append(limit)
    return ctx.query(sql, args)


def _range_body(ctx, start, end, **fields):
    body = {"end": format_ms(ctx.now if end is None else end)}
    if start is not None:
        body["start"] = format_ms(start)
    body.update(fields)
    return body


def list_values(ctx):
    stream = _stream(ctx)
    start, end = time_range(ctx)
    limit = ctx.params.integer("limit", DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
    rows = _value_rows(ctx, stream, start, end, limit)
    values = [{"timestamp": format_ms(row["ts"]), "value": row["value"]} for row in rows]
    return ok(_range_body(ctx, start, end, limit=limit, values=values))


def put_value(ctx):
    """PUT /value: one value, at its timestamp or the server's time."""
    stream = _stream(ctx)
    p = ctx.params
    entry = parse_entry(p, "value", stream["type"], p.data)
    p.check()
    value, ts = entry
    store_value(ctx, stream["device_id"], stream["name"], value, ts)
    return accepted()


def post_values(ctx):
    """POST /values: {"values": [{"timestamp", "value"}, ...]}, all or nothing."""
    stream = _stream(ctx)
    p = ctx.params
    entries = p.data.get("values")
    if not isinstance(entries, list) or not entries:
        raise invalid("values", "must be a non-empty list of values")
    writes = [parse_entry(p, "value", stream["type"], entry) for entry in entries]
    p.check()
    for value, ts in writes:
        store_value(ctx, stream["device_id"], stream["name"], value, ts)
    return accepted()


def delete_values(ctx):
    stream = _stream(ctx)
    start, end = time_range(ctx, "from", "end", required=True)
    ctx.execute(
        "DELETE FROM stream_values WHERE device_id = ? AND stream = ? AND ts BETWEEN ? AND ?",
        (stream["device_id"], stream["name"], start, end),
    )
    return no_content()


def _numeric_stream(ctx):
    stream = _stream(ctx)
    if stream["type"] != "numeric":
        raise invalid("stream", "numeric streams only")
    return stream


def sampling(ctx):
    """Every Nth value ('nth'), or one aggregate per interval-second bucket, newest first."""
    stream = _numeric_stream(ctx)
    p = ctx.params
    interval = p.integer("interval", minimum=1)
    if interval is MISSING and not p.errors.get("interval"):
        p.fail("interval", "not_present")
    kind = p.string("type", choices=SAMPLING_TYPES) or DEFAULT_SAMPLING_TYPE
    limit = p.integer("limit", DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
    start, end = time_range(ctx)
    rows = _value_rows(ctx, stream, start, end)
    if kind == "nth":
        samples = [(row["ts"], row["value"]) for row in rows[::interval]]
    else:
        samples = _buckets(rows, interval * 1000, AGGREGATES[kind])
    values = [{"timestamp": format_ms(ts), "value": value} for ts, value in samples[:limit]]
    body = _range_body(ctx, start, end, interval=interval, values=values)
    body.setdefault("start", None)
    return ok(body)


def _buckets(rows, width_ms, aggregate):
    """[(bucket start, float aggregate)] over rows sorted newest first."""
    buckets = {}
    for row in rows:
        buckets.setdefault(row["ts"] - row["ts"] % width_ms, []).append(row["value"])
    return [(start, float(aggregate(values))) for start, values in buckets.items()]


def stats(ctx):
    """count, min, max, avg and (population) stddev of the values in range, as floats."""
    stream = _numeric_stream(ctx)
    start, end = time_range(ctx)
    values = [row["value"] for row in _value_rows(ctx, stream, start, end)]
    if values:
        summary = {name: float(AGGREGATES[name](values)) for name in ("count", "min", "max", "avg", "stddev")}
    else:
        summary = {"count": 0.0, "min": None, "max": None, "avg": None, "stddev": None}
    return ok(_range_body(ctx, start, end, stats=summary))
