# The outbox side of `make bench` (the baseline's is mp_held.py): readings queued on flash,
# then flushed; and the device loop. A module of its own, and what only one measurement uses
# imported there, so that no measurement pays for another's code in its heap.
import gc
import os

from mp_common import COUNT
from mp_m2x import new_device

OUTBOX = os.getenv("BENCH_OUTBOX")  # a directory that does not exist yet, new for each run
HEAP_EVERY = 1000  # readings of the device loop between two heap figures


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


def device_loop():
    # app.device_loop for COUNT readings with a fake sleep, flushing every 100, the live
    # heap noted every HEAP_EVERY readings (gc.mem_alloc() after a collection; the largest
    # free block is in the micropython.mem_info() it prints), given as "N N ...".
    import micropython
    from app import device_loop

    device = new_device()
    heap = [0] * (COUNT // HEAP_EVERY)  # made before: noting a figure allocates nothing
    taken = [0]

    def sleep(seconds):
        taken[0] += 1
        if taken[0] % HEAP_EVERY == 0:
            gc.collect()
            heap[taken[0] // HEAP_EVERY - 1] = gc.mem_alloc()
            micropython.mem_info()

    box = device_loop(device.client, device["id"], OUTBOX, "values", every_s=0, batch=100, rounds=COUNT,
                      sleep=sleep)
    if box.pending() or box.dropped or box.refused() or device.stream("values").stats()["stats"]["count"] != COUNT:
        raise RuntimeError("the device loop did not deliver every reading once")
    return " ".join([str(n) for n in heap])
