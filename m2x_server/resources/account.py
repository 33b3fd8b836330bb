"""Account-level endpoints without a resource: status and time."""

from ..app import ok, text
from ..timefmt import format_ms


def status(ctx):
    return ok({"api": "OK", "triggers": "OK"})


def time(ctx):
    return ok({"seconds": ctx.now // 1000, "millis": ctx.now, "iso8601": format_ms(ctx.now)})


def time_seconds(ctx):
    return text(ctx.now // 1000)


def time_millis(ctx):
    return text(ctx.now)


def time_iso8601(ctx):
    return text(format_ms(ctx.now))
