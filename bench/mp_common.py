# What both sides of `make bench` share (bench/mp_m2x.py, bench/mp_baseline.py). Compiled to
# .mpy and run on MicroPython by bench/run.py; BENCH_URL, BENCH_KEY and BENCH_COUNT come from
# the environment.
import os
import time

URL = os.getenv("BENCH_URL")
KEY = os.getenv("BENCH_KEY")
COUNT = int(os.getenv("BENCH_COUNT") or 0)


def per_second(count, started_ms):
    return count * 1000 // max(time.ticks_diff(time.ticks_ms(), started_ms), 1)


def readings(server_iso_now):
    # COUNT readings one millisecond apart, as a board collects them
    minute = server_iso_now[:17]
    return [{"timestamp": "%s%02d.%03dZ" % (minute, i // 1000, i % 1000), "value": i} for i in range(COUNT)]


def batches(post, batch, what):
    """what: "hold" builds the batch only, "post" posts it once, "rate" thrice, timed."""
    if what == "hold":
        return "ok"
    if what == "post":
        post(batch)
        return "ok"
    started = time.ticks_ms()
    for _ in range(3):  # the same readings again: a retry replaces them
        post(batch)
    return per_second(3 * COUNT, started)
