# The scenarios of tests/test_transport_e2e.py, written once for both interpreters: pytest
# imports this module and runs a scenario in its own process (CPython), and the MicroPython
# unix port runs it as a script, `micropython scenarios.py config.json`, one process for a
# whole group, printing one `result {json}` line a scenario and `done` at the end.
#
# A scenario is a dict (its spec) naming its kind and what it needs (url, key, CA, device
# id...); it returns a dict of what it measured. Nothing is asserted here: pytest checks the
# results of both interpreters with the same code. A scenario that needs the test to act in
# the middle (restart the server, look at its sockets) calls ask("what"): on CPython a
# direct call, on MicroPython a file <hooks>/<name>.<what>.ask answered by <...>.done.
import gc
import json
import os
import sys
import time

import m2x_micro
from m2x_micro import elapsed_ms
from m2x_micro.transport import Transport

TIMEOUT = 8  # the client's timeout, seconds


def fds():
    # Open file descriptors of this process (Linux): one a socket, file or pipe.
    return len(os.listdir("/proc/self/fd"))


def heap():
    # Bytes of the MicroPython heap in use after a collection; None on CPython.
    gc.collect()
    return gc.mem_alloc() if hasattr(gc, "mem_alloc") else None


def stamp(i):
    # The i-th of a series of stamps one second apart.
    return "2026-01-02T%02d:%02d:%02d.000Z" % (i // 3600, i // 60 % 60, i % 60)


def ca_of(spec):
    # The ca argument in the form the spec asks for: a file name, or the file's bytes.
    form, path = spec["ca_form"], spec["ca"]
    if form == "file":
        return path
    with open(path, "rb") as f:
        return f.read()


def client(spec, transport, key=None):
    return m2x_micro.M2XClient(key or spec["key"], spec["url"], timeout=TIMEOUT, transport=transport)


def stream_of(c, device_id, name="temp"):
    return m2x_micro.Stream(c, {"name": name}, "/devices/%s/streams" % device_id)


def attempt(fn):
    # What one call came to: ok (and its answer) or the error's type, message and errno;
    # and the ms it took.
    start = elapsed_ms(0)
    out = {}
    try:
        out["answer"] = fn()
        out["kind"] = "OK"
    except m2x_micro.NetworkError as e:
        out["kind"], out["message"], out["errno"] = "NetworkError", str(e), e.errno
        out["repr"] = repr(e)
    except m2x_micro.HTTPError as e:
        out["kind"], out["message"], out["status"] = "HTTPError", str(e), e.status
        out["repr"] = repr(e)
    except Exception as e:  # what escaped is what the test reports
        out["kind"], out["message"] = "escaped:" + type(e).__name__, repr(e)
        out["repr"] = repr(e)
    out["ms"] = elapsed_ms(start)
    return out


def new_stream(c, spec):
    # A device named as the scenario, and its stream "temp".
    device = c.create_device(name=spec["name"], visibility="private")
    return device, device.create_stream("temp")


def values_of(stream, limit=100):
    return [[v["timestamp"], v["value"]] for v in stream.values(limit=limit)["values"]]


# --- the scenarios ------------------------------------------------------------------------

def accepted(spec, ask):
    # A verified server: status, a device created, values written three ways and read back.
    t = Transport(ca=ca_of(spec))
    c = client(spec, t)
    status = c.status()
    device, stream = new_stream(c, spec)
    stream.add_value(1.5, stamp(1))
    m2x_micro.Device(c, {"id": device["id"]}).post_update(values={"temp": 2.5}, timestamp=stamp(2))
    stream.post_values([{"timestamp": stamp(3), "value": 3.5}])
    out = {"status": status, "device": device["id"], "values": values_of(stream), "opened": t.opened}
    t.close()
    return out


def refused(spec, ask):
    # A write to a device that exists, over a connection that must not be made; the fds
    # before the client exists and after its refusal.
    before = fds()
    t = Transport(ca=ca_of(spec))
    c = client(spec, t)
    out = attempt(lambda: stream_of(c, spec["device"]).add_value(99, stamp(99)))
    out["opened"] = t.opened
    t.close()
    out["fds_before"], out["fds_after"] = before, fds()
    return out


def plain(spec, ask):
    # http:// through the transport: one connection for all of it.
    t = Transport()
    c = client(spec, t)
    status = c.status()
    device, stream = new_stream(c, spec)
    for i in range(5):
        stream.add_value(i, stamp(i))
    out = {"status": status, "device": device["id"], "values": values_of(stream), "opened": t.opened}
    t.close()
    return out


def writes(spec, ask):
    # spec["count"] single-value writes (value i at stamp(i), i from 1) on one stream; the
    # heap and fds at the writes listed in spec["marks"].
    t = Transport(ca=ca_of(spec))
    c = client(spec, t)
    device, stream = new_stream(c, spec)
    marks = {}
    start = elapsed_ms(0)
    for i in range(1, spec["count"] + 1):
        stream.add_value(i, stamp(i))
        if i in spec["marks"]:
            marks[str(i)] = {"heap": heap(), "fds": fds(), "opened": t.opened}
    out = {"device": device["id"], "ms": elapsed_ms(start), "marks": marks, "opened": t.opened}
    t.close()
    return out


def restart(spec, ask):
    # Writes, the server restarted while the connection is idle, writes again: each write's
    # outcome, then the values read back.
    t = Transport(ca=ca_of(spec))
    c = client(spec, t)
    device, stream = new_stream(c, spec)
    outcomes = []
    for i in range(1, 11):
        if i == 6:
            ask("restart")
        outcomes.append(attempt(lambda: stream.add_value(i, stamp(i))))
    read = attempt(lambda: values_of(stream))
    out = {"device": device["id"], "writes": outcomes, "read": read, "opened": t.opened}
    t.close()
    return out


def idle(spec, ask):
    # A request, a wait past the server's idle timeout, then a POST that is never sent twice
    # (create_device): it goes through only if the closed connection was seen before sending.
    t = Transport(ca=ca_of(spec))
    c = client(spec, t)
    first = attempt(c.status)
    opened_before = t.opened
    time.sleep(spec["wait"])
    after = attempt(lambda: c.create_device(name=spec["name"], visibility="private")["id"])
    again = attempt(c.status)
    out = {"first": first, "after": after, "again": again, "opened_before": opened_before, "opened": t.opened}
    t.close()
    return out


WARNING = "m2x_micro.transport: https NOT verified"


def insecure(spec, ask):
    # Two insecure transports against a server the CA would refuse: both work.
    first, second = Transport(insecure=True), Transport(insecure=True)
    c = client(spec, first)
    status = attempt(c.status)
    write = attempt(lambda: stream_of(c, spec["device"]).add_value(7, stamp(7)))
    read = attempt(lambda: values_of(stream_of(c, spec["device"])))
    other = attempt(client(spec, second).status)
    first.close()
    second.close()
    return {"status": status, "write": write, "read": read, "other": other,
            "opened": [first.opened, second.opened]}


def closing(spec, ask):
    # close() and `with`: the fds of this process around them, and the test's look at the
    # server's side of the connections (ask) after each.
    out = {"fds_start": fds()}
    t = Transport(ca=ca_of(spec))
    c = client(spec, t)
    out["first"] = attempt(c.status)
    out["fds_open"] = fds()
    t.close()
    out["fds_closed"] = fds()
    ask("closed")
    out["again"] = attempt(c.status)
    out["opened"] = t.opened
    ask("reopened")
    with Transport(ca=ca_of(spec)) as other:
        out["inside"] = attempt(client(spec, other).status)
        out["fds_inside"] = fds()
    out["fds_after_with"] = fds()
    out["with_opened"] = other.opened
    ask("with_closed")
    t.close()
    out["fds_end"] = fds()
    return out


KINDS = {"accepted": accepted, "refused": refused, "plain": plain, "writes": writes, "restart": restart,
         "idle": idle, "insecure": insecure, "closing": closing}


def run(spec, ask):
    """The scenario's results, with its name; an exception that escaped is in "error"."""
    try:
        out = KINDS[spec["kind"]](spec, lambda what: ask(spec["name"] + "." + what))
    except Exception as e:
        out = {"error": "%s: %r" % (type(e).__name__, e)}
    out["name"] = spec["name"]
    return out


def _file_ask(hooks):
    def ask(what):
        with open("%s/%s.ask" % (hooks, what), "w") as f:
            f.write("?")
        done = "%s/%s.done" % (hooks, what)
        start = elapsed_ms(0)
        while elapsed_ms(start) < 60000:
            try:
                os.stat(done)
                return
            except OSError:
                time.sleep(0.01)
        raise OSError("the test did not answer " + what)
    return ask


def main(config_path):
    with open(config_path) as f:
        config = json.load(f)
    ask = _file_ask(config["hooks"])
    for spec in config["scenarios"]:
        print("result " + json.dumps(run(spec, ask)))
    print("done")


if __name__ == "__main__":
    main(sys.argv[1])
