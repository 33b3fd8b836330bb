"""Timestamps: integer Unix milliseconds inside, ISO 8601 UTC with milliseconds and Z outside."""

import calendar
import datetime
import re
import time

_ISO_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))$"
)

# Years 1 to 9999: an offset must not carry a time beyond them, where no ISO 8601 answer
# (and no parser, this one included) can follow.
MIN_MS = calendar.timegm((1, 1, 1, 0, 0, 0)) * 1000
MAX_MS = calendar.timegm((9999, 12, 31, 23, 59, 59)) * 1000 + 999


def now_ms():
    return time.time_ns() // 1_000_000


def format_ms(ms):
    """2015-04-21T03:36:42.347Z for 1429587402347."""
    seconds, millis = divmod(ms, 1000)
    tm = time.gmtime(seconds)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (tm[:6] + (millis,))


def format_optional(ms):
    return None if ms is None else format_ms(ms)


def parse_iso8601(text):
    """Unix milliseconds for an ISO 8601 timestamp with a UTC designator, or ValueError.

    Accepts Z or a +hh:mm offset, and any fraction (microseconds are truncated to
    milliseconds). A timestamp without a zone is rejected: its meaning would be a guess.
    """
    match = _ISO_RE.match(text) if isinstance(text, str) else None
    if not match:
        raise ValueError("not an ISO 8601 timestamp with a UTC designator")
    year, month, day, hour, minute, second = (int(g) for g in match.group(1, 2, 3, 4, 5, 6))
    datetime.datetime(year, month, day, hour, minute, second)  # range check: ValueError
    fraction = (match.group(7) or "0").ljust(3, "0")[:3]
    seconds = calendar.timegm((year, month, day, hour, minute, second))
    if match.group(9):
        hours, minutes = int(match.group(10)), int(match.group(11))
        if hours > 23 or minutes > 59:
            raise ValueError("UTC offset out of range")
        offset = hours * 3600 + minutes * 60
        seconds -= offset if match.group(9) == "+" else -offset
    ms = seconds * 1000 + int(fraction)
    if not MIN_MS <= ms <= MAX_MS:
        raise ValueError("outside the years 1 to 9999 in UTC")
    return ms
