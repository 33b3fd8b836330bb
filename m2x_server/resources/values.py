"""Writing and reading values: one value per (device, stream, timestamp), newest first.

Stream-level endpoints live in streams.py; this module holds the device-level ones
(update, updates, values, values search, values export) and the shared write path.
"""

import csv
import io
import itertools

from .. import conditions
from ..app import accepted, ok
from ..errors import ValidationFailed
from ..params import MISSING, Params, parse_number
from ..storage import in_list
from ..timefmt import format_ms
from .jobs import create_export_job
from .location import parse_location, store_waypoint
from .ranges import first_free_ms, range_clause, time_range

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def coerce_value(stream_type, raw):
    """The value to store for a stream of this type, or ValueError with the 422 reason."""
    if stream_type == "numeric":
        try:
            return parse_number(raw)
        except ValueError:
            raise ValueError("not_numeric") from None
    if isinstance(raw, str):
        return raw
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return str(raw)
    raise ValueError("not_a_string")


def store_value(ctx, device_id, stream, value, ts):
    """Insert or replace the value at ts; ts None means the server's time."""
    if ts is None:
        ts = first_free_ms(
            ctx, "SELECT 1 FROM stream_values WHERE device_id = ? AND stream = ? AND ts = ?",
            (device_id, stream), ctx.now,
        )
    ctx.execute(
        "INSERT INTO stream_values (device_id, stream, ts, value) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (device_id, stream, ts) DO UPDATE SET value = excluded.value",
        (device_id, stream, ts, value),
    )


def parse_entry(p, field, stream_type, entry):
    """(value, ts or None) from {"value": v, "timestamp"?: iso}; problems recorded under field."""
    if not isinstance(entry, dict) or "value" not in entry:
        p.fail(field, "not_present" if field == "value" else "value not_present")
        return None
    ts = Params(entry).timestamp("timestamp")
    try:
        value = coerce_value(stream_type, entry["value"])
    except ValueError as exc:
        p.fail(field, str(exc))
        return None
    return value, None if ts is MISSING else ts


def device_streams(ctx, names=None):
    """{name: type} of the device's streams; a 422 naming each of `names` that does not exist."""
    rows = ctx.query("SELECT name, type FROM streams WHERE device_id = ? ORDER BY rowid", (ctx.device["id"],))
    streams = {row["name"]: row["type"] for row in rows}
    missing = [name for name in names or () if name not in streams]
    if missing:
        raise ValidationFailed({name: ["Stream not found"] for name in missing})
    return streams if names is None else {name: streams[name] for name in names}


def post_update(ctx):
    """POST /update: one timestamp, one value per stream, optionally a location."""
    ts = ctx.params.timestamp("timestamp")
    return _write_updates(ctx, _one_value, None if ts is MISSING else ts)


def post_updates(ctx):
    """POST /updates: lists of timestamped values per stream, optionally a location."""
    return _write_updates(ctx, _value_list)


def _one_value(p, name, stream_type, raw):
    return [parse_entry(p, name, stream_type, {"value": raw})]


def _value_list(p, name, stream_type, raw):
    if not isinstance(raw, list) or not raw:
        p.fail(name, "must be a non-empty list of values")
        return []
    return [parse_entry(p, name, stream_type, entry) for entry in raw]


def _write_updates(ctx, parse_stream, ts=None):
    """{"values": {stream: ...}, "location"?: {...}}, all or nothing; 422s name the stream.

    parse_stream(params, name, type, what was sent for it) gives the stream's (value, ts)
    entries; `ts` stands in for an entry's or the location's missing timestamp.
    """
    p = ctx.params
    values = p.mapping("values", required=True)
    location = p.mapping("location")
    p.check()
    streams = device_streams(ctx, list(values))
    if not values:
        p.fail("values", "not_present")
    writes = [
        (name, entry)
        for name, stream_type in streams.items()
        for entry in parse_stream(p, name, stream_type, values[name])
    ]
    fields = parse_location(location) if location else None
    p.check()
    for name, (value, entry_ts) in writes:
        store_value(ctx, ctx.device["id"], name, value, ts if entry_ts is None else entry_ts)
    if fields:
        if ts is not None:
            fields.setdefault("ts", ts)
        store_waypoint(ctx, ctx.device["id"], fields)
    return accepted()


def grouped_rows(ctx, names, start, end):
    """(ts, {stream: value}) for the device's values of the named streams, newest first."""
    if not names:
        return iter(())
    bounds, args = range_clause(start, end)
    in_names, names_args = in_list("stream", names)
    cursor = ctx.execute(
        "SELECT ts, stream, value FROM stream_values WHERE device_id = ? AND %s%s ORDER BY ts DESC"
        % (in_names, bounds),
        [ctx.device["id"]] + names_args + args,
    )
    return (
        (ts, {row["stream"]: row["value"] for row in rows})
        for ts, rows in itertools.groupby(cursor, key=lambda row: row["ts"])
    )


def _range_body(ctx, start, end, limit, items):
    body = {"end": format_ms(ctx.now if end is None else end), "limit": limit, "values": items}
    if start is not None:
        body["start"] = format_ms(start)
    return body


def _read_request(ctx):
    """start, end, limit and the stream names (all the device's when not given)."""
    start, end = time_range(ctx)
    limit = ctx.params.integer("limit", DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
    names = ctx.params.string_list("streams")
    ctx.params.check()
    return start, end, limit, list(device_streams(ctx, names or None))


def device_values(ctx):
    """GET /values: rows of {"timestamp", "values": {stream: value}}, newest first."""
    start, end, limit, names = _read_request(ctx)
    rows = itertools.islice(grouped_rows(ctx, names, start, end), limit)
    items = [{"timestamp": format_ms(ts), "values": values} for ts, values in rows]
    return ok(_range_body(ctx, start, end, limit, items))


def values_search(ctx):
    """Rows where every condition holds for its stream's value at that timestamp."""
    p = ctx.params
    raw = p.mapping("conditions")
    wanted = conditions.parse(p, "conditions", raw) if raw else {}
    start, end, limit, shown = _read_request(ctx)
    device_streams(ctx, list(wanted))
    involved = list(dict.fromkeys(shown + list(wanted)))
    items = []
    for ts, values in grouped_rows(ctx, involved, start, end):
        if len(items) == limit:
            break
        if all(name in values and conditions.satisfies(values[name], ops) for name, ops in wanted.items()):
            row = {name: values[name] for name in shown if name in values}
            if row:
                items.append({"timestamp": format_ms(ts), "values": row})
    return ok(_range_body(ctx, start, end, limit, items))


def export_values(ctx):
    """202 and a job whose result is a CSV: a header row naming the streams, newest first."""
    start, end = time_range(ctx)
    names = list(device_streams(ctx, ctx.params.string_list("streams") or None))
    ctx.params.check()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["timestamp"] + names)
    for ts, values in grouped_rows(ctx, names, start, end):
        writer.writerow([format_ms(ts)] + [values.get(name, "") for name in names])
    job_id = create_export_job(ctx, ctx.device["id"], out.getvalue())
    return accepted(ctx.url("/jobs/" + job_id))
