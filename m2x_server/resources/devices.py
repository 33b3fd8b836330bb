"""Devices: create, read, update, delete, list, search, catalog, tags and the request log."""

import json
import math

from .. import conditions, records
from ..app import created, no_content, ok
from ..paging import order_by, paginate
from ..params import MISSING, pick
from ..storage import in_list, new_id, to_json
from ..timefmt import format_ms
from .keys import insert_primary_key
from .location import current_location

VISIBILITIES = ("public", "private")
STATUSES = ("enabled", "disabled")
SORT_COLUMNS = {"created": "created", "name": "name COLLATE NOCASE", "last_activity": "last_activity"}
EARTH_RADIUS_M = 6371008.8
METERS_PER = {"m": 1.0, "km": 1000.0, "mi": 1609.344}


def device_json(ctx, row, with_key=True):
    device_id = row["id"]
    body = {
        "id": device_id,
        "url": ctx.url("/devices/" + device_id),
        "name": row["name"],
        "status": row["status"],
        "serial": row["serial"],
        "tags": json.loads(row["tags"]),
        "location": current_location(ctx, device_id) or {},
        "visibility": row["visibility"],
        "description": row["description"],
        "created": format_ms(row["created"]),
        "updated": format_ms(row["updated"]),
        "last_activity": format_ms(row["last_activity"]),
        "streams": {
            "count": ctx.query_one("SELECT count(*) FROM streams WHERE device_id = ?", (device_id,))[0],
            "url": ctx.url("/devices/%s/streams" % device_id),
        },
    }
    if with_key:
        body["key"] = records.primary_key(ctx, "device_id", device_id)
    if row["distribution_id"]:
        body["distribution"] = ctx.url("/distributions/" + row["distribution_id"])
        body["distribution_name"] = records.distribution(ctx, row["distribution_id"])["name"]
    return body


def public_device_json(ctx, row):
    """The catalog's view: no key, since the catalog needs none."""
    return device_json(ctx, row, with_key=False)


def device_fields(p, required):
    """The writable fields of a device named in the request (name, visibility required)."""
    return pick(
        name=p.string("name", required=required),
        visibility=p.string("visibility", required=required, choices=VISIBILITIES),
        description=p.string("description", nullable=True),
        serial=p.string("serial", nullable=True),
        status=p.string("status", choices=STATUSES),
        tags=p.string_list("tags", nullable=True),
        metadata=p.mapping("metadata"),
    )


def check_serial_free(ctx, serial, device_id=None):
    """Serials are unique across the account (records a 422 on the params), "" included."""
    if serial is None:
        return
    if ctx.query_one("SELECT 1 FROM devices WHERE serial = ? AND id IS NOT ?", (serial, device_id)):
        ctx.params.fail("serial", "taken")


def insert_device(ctx, fields, distribution_id=None):
    """A new device with its primary key; returns its row."""
    device_id = new_id()
    ctx.execute(
        "INSERT INTO devices (id, name, description, visibility, status, serial, tags, metadata,"
        " distribution_id, created, updated, last_activity) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            device_id, fields["name"], fields.get("description"), fields["visibility"],
            fields.get("status", "enabled"), fields.get("serial"), to_json(fields.get("tags") or []),
            to_json(fields.get("metadata", {})), distribution_id, ctx.now, ctx.now, ctx.now,
        ),
    )
    insert_primary_key(ctx, "device_id", device_id)
    return records.device(ctx, device_id)


def create_device(ctx):
    fields = device_fields(ctx.params, required=True)
    check_serial_free(ctx, fields.get("serial"))
    ctx.params.check()
    row = insert_device(ctx, fields)
    return created(device_json(ctx, row), ctx.url("/devices/" + row["id"]))


def get_device(ctx):
    return ok(device_json(ctx, ctx.device))


def update_device(ctx):
    """PUT needs name and visibility [C]; the other fields change only when named."""
    fields = device_fields(ctx.params, required=True)
    check_serial_free(ctx, fields.get("serial"), ctx.device["id"])
    ctx.params.check()
    records.update_fields(ctx, "devices", ctx.device["id"], fields)
    return no_content()


def delete_device(ctx):
    ctx.execute("DELETE FROM devices WHERE id = ?", (ctx.device["id"],))
    return no_content()


def _contains(column):
    return "instr(lower(coalesce(%s, '')), lower(?)) > 0" % column


def _sql_filters(ctx):
    """WHERE conditions from the query-style filters of list and search."""
    p = ctx.params
    where, args = ["1"], []
    query = p.string("q")
    if query:
        where.append("(%s)" % " OR ".join(_contains(column) for column in ("name", "description", "serial")))
        args.extend([query] * 3)
    for column in ("name", "description"):
        value = p.string(column)
        if value:
            where.append(_contains(column))
            args.append(value)
    for column, choices in (("serial", None), ("status", STATUSES), ("visibility", VISIBILITIES)):
        value = p.string(column, choices=choices)
        if value:
            where.append("%s = ?" % column)
            args.append(value)
    ids = p.string_list("ids")
    if ids:
        sql, sql_args = in_list("id", ids)
        where.append(sql)
        args.extend(sql_args)
    for tag in p.string_list("tags") or []:
        where.append("EXISTS (SELECT 1 FROM json_each(devices.tags) WHERE value = ?)")
        args.append(tag)
    for name, operator in (("modified_since", ">="), ("unmodified_since", "<")):
        ms = p.timestamp(name)
        if ms is not MISSING:
            where.append("updated %s ?" % operator)
            args.append(ms)
    collection = p.string("collection")
    if collection:
        sql, sql_args = in_list("collection_id", records.collection_tree_ids(ctx, collection))
        where.append("id IN (SELECT device_id FROM collection_devices WHERE %s)" % sql)
        args.extend(sql_args)
    return " AND ".join(where), args


def _body_filters(ctx):
    """Predicates from the JSON filters of search: streams, metadata and location."""
    p = ctx.params
    predicates = []
    streams = p.mapping("streams")
    if streams:
        wanted = conditions.parse(p, "streams", streams)
        predicates.append(lambda row: _streams_match(ctx, row["id"], wanted))
    metadata = p.mapping("metadata")
    if metadata:
        wanted_metadata = conditions.parse(p, "metadata", metadata, shorthand_eq=True)
        predicates.append(lambda row: _metadata_matches(json.loads(row["metadata"]), wanted_metadata))
    location = p.mapping("location")
    if location:
        circle = _parse_circle(p, location)
        predicates.append(lambda row: _within(ctx, row["id"], circle))
    return predicates


def _streams_match(ctx, device_id, wanted):
    """Each named stream exists and its newest value satisfies the stream's conditions."""
    for name, ops in wanted.items():
        if not ctx.query_one("SELECT 1 FROM streams WHERE device_id = ? AND name = ?", (device_id, name)):
            return False
        newest = ctx.query_one(
            "SELECT value FROM stream_values WHERE device_id = ? AND stream = ? ORDER BY ts DESC LIMIT 1",
            (device_id, name),
        )
        if ops and (newest is None or not conditions.satisfies(newest["value"], ops)):
            return False
    return True


def _metadata_matches(metadata, wanted):
    return all(name in metadata and conditions.satisfies(metadata[name], ops) for name, ops in wanted.items())


def _parse_circle(p, location):
    """{"within_circle": {"center": {"latitude", "longitude"}, "radius": {"km"|"mi"|"m": n}}}."""
    circle = location.get("within_circle")
    center = circle.get("center") if isinstance(circle, dict) else None
    radius = circle.get("radius") if isinstance(circle, dict) else None
    try:
        latitude, longitude = float(center["latitude"]), float(center["longitude"])
        (unit, amount), = radius.items()
        meters = float(amount) * METERS_PER[unit]
    except (TypeError, KeyError, ValueError, AttributeError):
        p.fail("location", 'use {"within_circle": {"center": {"latitude": ..., "longitude": ...},'
                           ' "radius": {"km" or "mi" or "m": ...}}}')
        return None
    return latitude, longitude, meters


def _within(ctx, device_id, circle):
    location = current_location(ctx, device_id)
    if location is None or circle is None:
        return False
    return _distance_m(circle[0], circle[1], location["latitude"], location["longitude"]) <= circle[2]


def _distance_m(lat1, lon1, lat2, lon2):
    """Great-circle (haversine) distance."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def _matching_devices(ctx, extra_where=""):
    where, args = _sql_filters(ctx)
    predicates = _body_filters(ctx)
    order = order_by(ctx, SORT_COLUMNS, "created")
    ctx.params.check()
    rows = ctx.query("SELECT * FROM devices WHERE %s%s ORDER BY %s" % (where, extra_where, order), args)
    return [row for row in rows if all(predicate(row) for predicate in predicates)]


def paginate_devices(ctx, where, args=()):
    """200 with one page of the devices matching `where`, in the request's sort and dir."""
    order = order_by(ctx, SORT_COLUMNS, "created")
    ctx.params.check()
    rows = ctx.query("SELECT * FROM devices WHERE %s ORDER BY %s" % (where, order), args)
    return paginate(ctx, "devices", rows, device_json)


def list_devices(ctx):
    """GET /devices and /devices/search: the same filters, from the query or the body."""
    return paginate(ctx, "devices", _matching_devices(ctx), device_json)


def catalog(ctx):
    rows = _matching_devices(ctx, " AND visibility = 'public'")
    return paginate(ctx, "devices", rows, public_device_json)


def device_tags(ctx):
    rows = ctx.query("SELECT value, count(*) AS n FROM devices, json_each(devices.tags) GROUP BY value ORDER BY value")
    return ok({"tags": {row["value"]: row["n"] for row in rows}})


def request_log(ctx):
    rows = ctx.query("SELECT * FROM request_log WHERE device_id = ? ORDER BY id DESC", (ctx.device["id"],))
    entries = [
        {"timestamp": format_ms(row["ts"]), "status": row["status"], "http_method": row["method"], "path": row["path"]}
        for row in rows
    ]
    return ok({"requests": entries})
