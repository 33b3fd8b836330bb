# The outbox side of `make bench` (the baseline's is mp_held.py): readings queued on flash,
# then flushed (the device loop is mp_loop.py). A module of its own, and what only one
# measurement uses imported there, so that no measurement pays for another's code in its heap.
import os

from mp_common import COUNT
from mp_m2x import new_device

OUTBOX = os.getenv("BENCH_OUTBOX")  # a directory that does not exist yet, new for each run


def queued(what):
    # The readings of mp_m2x.updates() queued in the outbox, then flushed in one request.
    from m2x_micro.outbox import Outbox
    from mp_queue import queued as measure, stamped

    device = new_device()
    box = Outbox(device.client, device["id"], OUTBOX)
    now = device.client.time_iso8601()

    def fill():
        for stamp, value in stamped(now):
            box.add("values", value, stamp)

    def flush():
        if box.flush(max_values=COUNT) != COUNT:
            raise RuntimeError("the flush did not send every reading")

    return measure(what, fill, flush)

