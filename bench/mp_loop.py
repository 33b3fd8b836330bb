# The device loop of `make bench`: boards/common/app.py's device_loop with what a board
# imports and no more (the client, its add-ons, the app), so that its heap is a board's.
import gc
import os

import micropython
from app import device_loop
from m2x_micro import M2XClient

HEAP_EVERY = 1000  # readings between two heap figures


def run():
    """device_loop for BENCH_COUNT readings with a fake sleep, delivering every 100; the live
    heap noted every HEAP_EVERY readings (gc.mem_alloc() after a collection; the largest
    free block is in the micropython.mem_info() it prints), given as "N N ..."."""
    count = int(os.getenv("BENCH_COUNT"))
    client = M2XClient(os.getenv("BENCH_KEY"), os.getenv("BENCH_URL"))
    device = client.create_device(name="bench loop", visibility="private")
    stream = device.create_stream("values")
    heap = [0] * (count // HEAP_EVERY)  # made before: noting a figure allocates nothing
    taken = [0]

    def sleep(seconds):
        taken[0] += 1
        if taken[0] % HEAP_EVERY == 0:
            gc.collect()
            heap[taken[0] // HEAP_EVERY - 1] = gc.mem_alloc()
            micropython.mem_info()

    box = device_loop(client, device["id"], os.getenv("BENCH_OUTBOX"), "values", every_s=0, batch=100, rounds=count,
                      sleep=sleep)
    if box.pending() or box.dropped or box.refused() or stream.stats()["stats"]["count"] != count:
        raise RuntimeError("the device loop did not deliver every reading once")
    return " ".join([str(n) for n in heap])
