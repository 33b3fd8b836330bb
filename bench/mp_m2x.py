# The m2x_micro side of `make bench`, the same measurements as mp_baseline.py.
import time

from m2x_micro import M2XClient
from mp_common import COUNT, KEY, URL, batches, per_second, readings


def client():
    return M2XClient(KEY, URL)


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
