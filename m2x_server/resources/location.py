"""Device location: /location and /location/waypoints (one waypoint per timestamp)."""

from ..app import accepted, no_content, ok
from ..params import Params, pick
from ..timefmt import format_ms
from .ranges import first_free_ms, range_clause, time_range

WAYPOINTS_DEFAULT_LIMIT = 30
WAYPOINTS_MAX_LIMIT = 1000


def waypoint_json(row):
    return {
        "name": row["name"],
        "latitude": row["latitude"],
        "longitude": row["longitude"],
        "elevation": row["elevation"],
        "timestamp": format_ms(row["ts"]),
    }


def current_location(ctx, device_id):
    """The newest waypoint as a dict, or None."""
    row = ctx.query_one("SELECT * FROM waypoints WHERE device_id = ? ORDER BY ts DESC LIMIT 1", (device_id,))
    return None if row is None else waypoint_json(row)


def parse_location(data):
    """A waypoint's fields from a dict: a PUT body or post_update's "location"."""
    p = Params(data)
    fields = pick(
        latitude=p.number("latitude", required=True),
        longitude=p.number("longitude", required=True),
        name=p.string("name", nullable=True),
        elevation=p.number("elevation", nullable=True),
        ts=p.timestamp("timestamp"),
    )
    if abs(fields.get("latitude", 0)) > 90:
        p.fail("latitude", "out_of_range")
    if abs(fields.get("longitude", 0)) > 180:
        p.fail("longitude", "out_of_range")
    p.check()
    return fields


def store_waypoint(ctx, device_id, fields):
    """Insert or replace the waypoint at fields["ts"]; without one, at the server's time."""
    ts = fields.get("ts")
    if ts is None:
        ts = first_free_ms(ctx, "SELECT 1 FROM waypoints WHERE device_id = ? AND ts = ?", (device_id,), ctx.now)
    ctx.execute(
        "INSERT INTO waypoints (device_id, ts, name, latitude, longitude, elevation) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (device_id, ts) DO UPDATE SET name = excluded.name, latitude = excluded.latitude,"
        " longitude = excluded.longitude, elevation = excluded.elevation",
        (device_id, ts, fields.get("name"), fields["latitude"], fields["longitude"], fields.get("elevation")),
    )


def get_location(ctx):
    """The newest waypoint, and under "waypoints" the recent ones, newest first (as the
    real service answered: its recorded response has both)."""
    rows = ctx.query("SELECT * FROM waypoints WHERE device_id = ? ORDER BY ts DESC LIMIT ?",
                     (ctx.device["id"], WAYPOINTS_DEFAULT_LIMIT))
    if not rows:
        return no_content()
    location = waypoint_json(rows[0])
    location["waypoints"] = [waypoint_json(row) for row in rows]
    return ok(location)


def update_location(ctx):
    fields = parse_location(ctx.params.data)
    store_waypoint(ctx, ctx.device["id"], fields)
    return accepted()


def list_waypoints(ctx):
    start, end = time_range(ctx)
    limit = ctx.params.integer("limit", WAYPOINTS_DEFAULT_LIMIT, minimum=1, maximum=WAYPOINTS_MAX_LIMIT)
    ctx.params.check()
    bounds, args = range_clause(start, end)
    rows = ctx.query(
        "SELECT * FROM waypoints WHERE device_id = ?%s ORDER BY ts DESC LIMIT ?" % bounds,
        [ctx.device["id"]] + args + [limit],
    )
    return ok({"waypoints": [waypoint_json(row) for row in rows]})


def delete_waypoints(ctx):
    start, end = time_range(ctx, "from", "end", required=True)
    ctx.execute("DELETE FROM waypoints WHERE device_id = ? AND ts BETWEEN ? AND ?", (ctx.device["id"], start, end))
    return accepted()

