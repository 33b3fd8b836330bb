# The baseline of `make bench`: the device scenario, the writes and the batches written
# the way users write them today, one requests call per API call.
import random
import time

import requests
from mp_common import COUNT, KEY, URL, batches, per_second, readings

HEADERS = {"X-M2X-KEY": KEY, "Content-Type": "application/json"}


def call(method, path, body=None):
    r = requests.request(method, URL + "/v2" + path, json=body, headers=HEADERS)
    try:
        if r.status_code >= 300:
            raise OSError("HTTP %d on %s" % (r.status_code, path))
        return r.json() if r.content else None
    finally:
        r.close()


def new_device():
    device_id = call("POST", "/devices", {"name": "baseline", "visibility": "private"})["id"]
    call("PUT", "/devices/%s/streams/values" % device_id, {})
    return device_id


def scenario():
    # The demo's device scenario (boards/common/app.py), by hand.
    device_id = new_device()
    device = "/devices/" + device_id
    call("PUT", device + "/streams/temperature", {"unit": {"label": "celsius", "symbol": "C"}})
    for _ in range(10):
        call("PUT", device + "/streams/values/value", {"value": random.randint(0, 100)})
    for value in call("GET", device + "/streams/values/values")["values"]:
        print(value["timestamp"], value["value"])
    values = {"values": [], "temperature": []}
    second = call("GET", "/time")["iso8601"][:20]
    for i in range(5):
        values["values"].append({"timestamp": second + "%03dZ" % i, "value": random.randint(0, 100)})
        values["temperature"].append({"timestamp": second + "%03dZ" % i, "value": 21.5})
    call("POST", device + "/updates", {"values": values})
    print(call("GET", device + "/streams/values/stats")["stats"])
    for name in ("SAY_HELLO", "SELF_DESTRUCT"):
        call("POST", "/commands", {"name": name, "targets": {"devices": [device_id]}})
    for command in call("GET", device + "/commands?status=pending")["commands"]:
        verb = "process" if command["name"] == "SAY_HELLO" else "reject"
        call("POST", "%s/commands/%s/%s" % (device, command["id"], verb), {})
    return "ok"


def writes():
    url = URL + "/v2/devices/%s/streams/values/value" % new_device()
    started = time.ticks_ms()
    for i in range(COUNT):
        requests.put(url, json={"value": i}, headers=HEADERS).close()
    return per_second(COUNT, started)


def updates(what):
    path = "/devices/%s/updates" % new_device()
    batch = readings(call("GET", "/time")["iso8601"])
    return batches(lambda b: call("POST", path, {"values": {"values": b}}), batch, what)
