# The baseline of mp_outbox.py, as users write it today: the readings held in RAM as
# (stamp, value) pairs until the network is up, then one post_updates body made from them.
from mp_baseline import call, new_device
from mp_queue import queued as measure, stamped


def queued(what):
    path = "/devices/%s/updates" % new_device()
    now = call("GET", "/time")["iso8601"]
    held = []

    def fill():
        del held[:]
        held.extend(stamped(now))

    return measure(what, fill, lambda: call("POST", path, {"values": {"values": [
        {"timestamp": t, "value": v} for t, v in held]}}))
