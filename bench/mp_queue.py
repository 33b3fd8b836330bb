# What both sides of the queued-readings rows of `make bench` share (mp_outbox.py,
# mp_held.py); not in mp_common.py, so that the other rows' heap does not pay for it.
import time

from mp_common import COUNT


def stamped(server_iso_now):
    # The readings of mp_common.readings() as (stamp, value) pairs, made one at a time.
    minute = server_iso_now[:17]
    for i in range(COUNT):
        yield "%s%02d.%03dZ" % (minute, i // 1000, i % 1000), i


def queued(what, fill, flush):
    """fill() keeps the COUNT readings as a board does until the network is up, flush()
    sends them in one request. what: "hold" stops before flush(), "post" flushes once,
    "rate" fills and flushes thrice (the same readings again: a retry replaces them) and
    gives the values/s of the flushes alone."""
    took = 0
    for _ in range(3 if what == "rate" else 1):
        fill()
        if what == "hold":
            return "ok"
        started = time.ticks_us()
        flush()
        took += time.ticks_diff(time.ticks_us(), started)
    return "ok" if what == "post" else 3 * COUNT * 1000000 // max(took, 1)
