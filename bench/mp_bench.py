# The MicroPython side of `make bench`: one measurement per run, printed as "RESULT value".
#   micropython mp_bench.py WHAT URL KEY [COUNT]
# bench/run.py starts the server, runs this with each WHAT and reads the results.
import gc
import sys
import time

import requests

WHAT, URL, KEY = sys.argv[1], sys.argv[2], sys.argv[3]
COUNT = int(sys.argv[4]) if len(sys.argv) > 4 else 0
HEADERS = {"X-M2X-KEY": KEY, "Content-Type": "application/json"}


# --- The baseline: the way users write it today, one requests call per API call ------


def call(method, path, body=None):
    r = requests.request(method, URL + "/v2" + path, json=body, headers=HEADERS)
    try:
        if r.status_code >= 300:
            raise OSError("HTTP %d on %s" % (r.status_code, path))
        return r.json() if r.content else None
    finally:
        r.close()


def baseline_stream():
    device = call("POST", "/devices", {"name": "baseline", "visibility": "private"})["id"]
    call("PUT", "/devices/%s/streams/values" % device, {})
    return "/devices/" + device


def baseline_scenario():
    # The demo's device scenario (boards/common/app.py), written by hand.
    import random
    device = baseline_stream()
    call("PUT", device + "/streams/temperature", {"unit": {"label": "celsius", "symbol": "C"}})
    for _ in range(10):
        call("PUT", device + "/streams/values/value", {"value": random.randint(0, 100)})
    for value in call("GET", device + "/streams/values/values")["values"]:
        print(value["timestamp"], value["value"])
    second = call("GET", "/time")["iso8601"][:20]
    values = {"values": [], "temperature": []}
    for i in range(5):
        values["values"].append({"timestamp": second + "%03dZ" % i, "value": random.randint(0, 100)})
        values["temperature"].append({"timestamp": second + "%03dZ" % i, "value": 21.5})
    call("POST", device + "/updates", {"values": values})
    print(call("GET", device + "/streams/values/stats")["stats"])
    for name in ("SAY_HELLO", "SELF_DESTRUCT"):
        call("POST", "/commands", {"name": name, "targets": {"devices": [device[9:]]}})
    for command in call("GET", device + "/commands?status=pending")["commands"]:
        verb = "process" if command["name"] == "SAY_HELLO" else "reject"
        call("POST", "%s/commands/%s/%s" % (device, command["id"], verb), {})


def readings(count):
    # count readings one millisecond apart, as a board collects them
    second = call("GET", "/time")["iso8601"][:17]
    return [{"timestamp": "%s%02d.%03dZ" % (second, i // 1000, i % 1000), "value": i} for i in range(count)]


# --- m2x_micro -----------------------------------------------------------------------


def m2x_device():
    from m2x_micro import M2XClient
    device = M2XClient(KEY, URL).create_device(name="bench", visibility="private")
    device.create_stream("values")
    return device


def per_second(count, started_ms):
    return count * 1000 // max(time.ticks_diff(time.ticks_ms(), started_ms), 1)


def measure():
    if WHAT == "import":
        gc.collect()
        before = gc.mem_alloc()
        import m2x_micro  # noqa: F401
        gc.collect()
        return gc.mem_alloc() - before
    if WHAT == "scenario_m2x":
        from app import demo
        from m2x_micro import M2XClient
        demo(M2XClient(KEY, URL), say=lambda text: None)
        return "ok"
    if WHAT == "scenario_baseline":
        baseline_scenario()
        return "ok"
    if WHAT == "writes_m2x":
        stream = m2x_device().stream("values")
        started = time.ticks_ms()
        for i in range(COUNT):
            stream.add_value(i)
        return per_second(COUNT, started)
    if WHAT == "writes_baseline":
        url = URL + "/v2" + baseline_stream() + "/streams/values/value"
        started = time.ticks_ms()
        for i in range(COUNT):
            requests.put(url, json={"value": i}, headers=HEADERS).close()
        return per_second(COUNT, started)
    # Batches through post_updates: the same readings three times (a retry replaces them).
    batch = readings(COUNT)
    if WHAT in ("updates_m2x", "post_m2x", "hold_m2x"):
        device = m2x_device()
        post = lambda: device.post_updates(values={"values": batch})  # noqa: E731
    else:
        path = baseline_stream() + "/updates"
        post = lambda: call("POST", path, {"values": {"values": batch}})  # noqa: E731
    gc.collect()
    if WHAT.startswith("hold_"):  # everything but the request: the floor for post_*
        return "ok"
    if WHAT.startswith("post_"):
        post()
        return "ok"
    started = time.ticks_ms()
    for _ in range(3):
        post()
    return per_second(3 * COUNT, started)


print("RESULT", measure())
