"""Time ranges and timestamps shared by values and waypoints."""

from ..errors import BadRequest
from ..params import MISSING


def time_range(ctx, start_name="start", end_name="end", required=False):
    """(start, end) in ms from the request, None when absent; 400 when start is after end."""
    start = ctx.params.timestamp(start_name, required=required)
    end = ctx.params.timestamp(end_name, required=required)
    ctx.params.check()
    start = None if start is MISSING else start
    end = None if end is MISSING else end
    if start is not None and end is not None and start > end:
        raise BadRequest("'%s' is after '%s'" % (start_name, end_name))
    return start, end


def range_clause(start, end, column="ts"):
    """' AND ts >= ? AND ts <= ?' (inclusive bounds, each only when given) and its arguments."""
    sql, args = "", []
    if start is not None:
        sql += " AND %s >= ?" % column
        args.append(start)
    if end is not None:
        sql += " AND %s <= ?" % column
        args.append(end)
    return sql, args


def first_free_ms(ctx, exists_sql, args, ms):
    """The first millisecond from `ms` on for which `exists_sql` (args + ms) finds no row.

    Writes without a timestamp take the server's time but never land on an existing
    timestamp, so two of them in the same millisecond both stay.
    """
    while ctx.query_one(exists_sql, tuple(args) + (ms,)):
        ms += 1
    return ms
