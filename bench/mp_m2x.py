# The m2x_micro side of `make bench`, the same measurements as mp_baseline.py. With
# BENCH_TRANSPORT set, through the keep-alive transport add-on (verifying an https server
# against the CA in the file BENCH_CA) instead of the board's requests.
import os
import time

from m2x_micro import M2XClient
from mp_common import COUNT, KEY, URL, batches, per_second, readings


def transport():
    if os.getenv("BENCH_TRANSPORT"):
        from m2x_micro.transport import Transport

        return Transport(ca=os.getenv("BENCH_CA"))


def client(http=None):
    return M2XClient(KEY, URL, transport=http or transport())


def new_device():
    device = client().create_device(name="bench", visibility="private")
    device.create_stream("values")
    return device


def scenario():
    from demo import demo
    demo(client(), say=lambda text: None)
    return "ok"


def writes():
    stream = new_device().stream("values")
    started = time.ticks_ms()
    for i in range(COUNT):
        stream.add_value(i)
    return per_second(COUNT, started)


def updates(what):
    device = new_device()
    batch = readings(device.client.time_iso8601())
    return batches(lambda b: device.post_updates(values={"values": b}), batch, what)

