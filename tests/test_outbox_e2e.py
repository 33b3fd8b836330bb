# The outbox (m2x_micro/outbox.py) against a real m2x_server over real sockets. One
# scenario script, run by CPython (through the urequests shim) and by the MicroPython unix
# port (from source, and compiled in a 64 KiB heap), each phase a new process as after a
# reboot: readings added and flushed land with their exact stamps and values; a refused
# reading (422 not_numeric, 422 Stream not found) is set aside while the rest land; with
# the server stopped flush() raises NetworkError and keeps everything; restarted, it
# drains. Then the figures of flushing 1,000 readings on MicroPython, printed (run with -s).
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from m2x_micro import format_iso8601, parse_iso8601
from micropython_tools import ROOT, compile_package, run_micropython
from server_process import running_server

SCENARIO = r'''
import gc
import json
import os
import sys
import time

import m2x_micro
from m2x_micro.outbox import Outbox

URL = os.getenv("OUTBOX_URL")
KEY = os.getenv("OUTBOX_KEY")
DEAD_URL = os.getenv("OUTBOX_DEAD_URL")  # nothing listens there
T0 = 1767225600  # 2026-01-01T00:00:00Z, in seconds on a 1970 epoch (unix, CPython)


def report(**result):
    print("RESULT " + json.dumps(result))


def fill(box):
    box.add("temp", 21.5, "2026-01-01T00:00:00.125Z")
    box.add("hum", 40, T0 + 1)
    box.add("temp", "oops", "2026-01-01T00:00:02Z")  # not numeric: refused, set aside
    box.add("note", 'tab\t"quoted" \u00e9', (2026, 1, 1, 0, 0, 3, 3, 1))
    box.add("ghost", 1, "2026-01-01T00:00:04Z")  # no such stream: refused, set aside
    box.add("temp", -3.25e-3, "2026-01-01T00:00:05.999Z")
    box.add("hum", 41)  # stamped by the client: now
    for i in range(40):
        box.add("temp" if i % 2 else "hum", i, T0 + 10 + i)


def scenario(phase, directory, device):
    client = m2x_micro.M2XClient(KEY, URL, timeout=5)
    box = Outbox(client, device, directory)
    if phase == "fill":
        fill(box)
        sent = box.flush(max_values=16)
        report(sent=sent, pending=box.pending(), refused=box.refused())
    elif phase == "outage":
        for i in range(3):
            box.add("temp", 100 + i, T0 + 100 + i)
        try:
            box.flush()
            report(error=None)
        except m2x_micro.NetworkError as e:
            report(error="NetworkError", errno=e.errno, pending=box.pending())
    elif phase == "drain":
        report(pending=box.pending(), sent=box.flush(), left=box.pending())


class Watched(m2x_micro.M2XClient):
    """A client that, while watch is set, notes the live heap (after a collection) as
    each chunk of a streamed body goes out."""

    watch = False
    peak = 0

    def request(self, method, path, data=None, length=None, **kw):
        if data is not None and self.watch:
            data = self._watched(data)
        return m2x_micro.M2XClient.request(self, method, path, data=data, length=length, **kw)

    def _watched(self, chunks):
        for chunk in chunks:
            gc.collect()
            self.peak = max(self.peak, gc.mem_alloc())
            yield chunk


def bench(directory, device, other, reps):
    # Flushing 1,000 readings of one stream in one request against hand-written
    # requests.post(url, json=...) of the same 1,000 values: the payload made beforehand
    # (post_us), and made from (ms, value) pairs kept in RAM, stamps formatted then (built_us).
    import requests

    client = Watched(KEY, URL, timeout=30)
    readings = [((T0 + i) * 1000, i * 0.25) for i in range(1000)]
    payload = {"values": {"bench": [{"timestamp": m2x_micro.format_iso8601(ms), "value": v} for ms, v in readings]}}
    url = URL + "/v2/devices/" + other + "/updates"
    headers = {"X-M2X-KEY": KEY, "Content-Type": "application/json"}
    outbox_us = []
    post_us = []
    built_us = []
    growth = 0
    for rep in range(reps + 1):
        for name in os.listdir(directory):
            os.remove(directory + "/" + name)
        box = Outbox(client, device, directory)
        for i in range(1000):
            box.add("bench", i * 0.25, T0 + i)
        client.watch = rep == reps  # the last round measures the heap, untimed
        gc.collect()
        client.peak = start = gc.mem_alloc()
        began = time.ticks_us()
        assert box.flush(max_values=1000) == 1000
        took = time.ticks_diff(time.ticks_us(), began)
        if client.watch:
            growth = client.peak - start
            break
        outbox_us.append(took)
        gc.collect()
        began = time.ticks_us()
        answer = requests.post(url, json=payload, headers=headers)
        post_us.append(time.ticks_diff(time.ticks_us(), began))
        answer.close()
        assert answer.status_code == 202
        gc.collect()
        began = time.ticks_us()
        built = {"values": {"bench": [{"timestamp": m2x_micro.format_iso8601(ms), "value": v} for ms, v in readings]}}
        answer = requests.post(url, json=built, headers=headers)
        built_us.append(time.ticks_diff(time.ticks_us(), began))
        answer.close()
        built = None
    outbox_us.sort()
    post_us.sort()
    built_us.sort()
    report(outbox_us=outbox_us, post_us=post_us, built_us=built_us, growth=growth)


def small_heap(directory, device):
    # The compiled package in a small heap: 1,000 readings in one request.
    client = Watched(KEY, URL, timeout=30)
    box = Outbox(client, device, directory)
    for i in range(1000):
        box.add("bench", -i, T0 + 2000 + i)
    client.watch = True
    gc.collect()
    client.peak = start = gc.mem_alloc()
    report(sent=box.flush(max_values=1000), growth=client.peak - start, free=gc.mem_free())


def corked(directory, device):
    # The writes and options the socket of the board's requests gets while flush() sends
    # 300 readings as the boot's first request, through the lazy urequests alias (see
    # ALIAS), and whether requests has its own socket module back after a flush that
    # succeeds and after one that fails.
    import urequests

    client = m2x_micro.M2XClient(KEY, URL, timeout=5)
    loaded_before = "requests" in sys.modules
    box = Outbox(client, device, directory)
    for i in range(300):
        box.add("temp", i, T0 + 200 + i)
    sent = box.flush(max_values=300)
    import requests

    recording = urequests.recording
    after_success = requests.socket is recording
    box.add("temp", -1, T0 + 600)
    box.client = m2x_micro.M2XClient(KEY, DEAD_URL, timeout=2)
    try:
        box.flush()
        error = None
    except m2x_micro.NetworkError:
        error = "NetworkError"
    report(sent=sent, loaded_before=loaded_before, calls=recording.calls, after_success=after_success,
           error=error, after_failure=requests.socket is recording, pending=box.pending())


if sys.argv[1] == "bench":
    bench(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
elif sys.argv[1] == "corked":
    corked(sys.argv[2], sys.argv[3])
elif sys.argv[1] == "small_heap":
    small_heap(sys.argv[2], sys.argv[3])
else:
    scenario(sys.argv[1], sys.argv[2], sys.argv[3])
'''

# urequests as micropython-lib ships it on firmware, an alias that imports requests when
# first asked for a name (the unix port has none), and which then also puts a recording
# socket module in requests' place: its sockets note their writes and options in order.
ALIAS = r'''
recording = None


class Recorded:
    def __init__(self, sock, calls):
        self._sock = sock
        self._calls = calls

    def __getattr__(self, name):
        return getattr(self._sock, name)

    def setsockopt(self, *args):
        self._calls.append(["setsockopt"] + list(args))
        self._sock.setsockopt(*args)

    def write(self, data):
        self._calls.append(["write"])
        return self._sock.write(data)


class Recording:
    def __init__(self, module):
        self._module = module
        self.getaddrinfo = module.getaddrinfo
        self.SOCK_STREAM = module.SOCK_STREAM
        self.calls = []

    def socket(self, *args):
        return Recorded(self._module.socket(*args), self.calls)


def __getattr__(attr):
    global recording
    import requests

    if recording is None:
        recording = requests.socket = Recording(requests.socket)
    return getattr(requests, attr)
'''

SET_ASIDE = [
    ["temp", 1767225602000, "oops", 'HTTP 422: Validation Failed {"temp": ["not_numeric"]}'],
    ["ghost", 1767225604000, 1, 'HTTP 422: Validation Failed {"ghost": ["Stream not found"]}'],
]


def make_device(server, streams):
    device = server.request("POST", "/v2/devices", json={"name": "outbox", "visibility": "private"}).json()["id"]
    for name, kind in streams:
        assert server.request("PUT", "/v2/devices/%s/streams/%s" % (device, name), json={"type": kind}).status_code == 201
    return device


def stored(server, device, stream, start="2000-01-01T00:00:00Z"):
    answer = server.request("GET", "/v2/devices/%s/streams/%s/values" % (device, stream),
                            params={"start": start, "limit": 1000})
    return sorted((v["timestamp"], v["value"]) for v in answer.json()["values"])


def at(second, ms=0):
    return "2026-01-01T00:00:%02d.%03dZ" % (second, ms)


def result(completed):
    print(completed.stdout[-3000:], completed.stderr[-3000:])
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
    assert completed.returncode == 0 and lines, "the scenario failed"
    return json.loads(lines[-1][len("RESULT "):])


class Runner:
    """Runs the scenario script under one interpreter, each phase a new process; the
    server's address and key come from the environment (OUTBOX_URL, OUTBOX_KEY)."""

    def __init__(self, interpreter, tmp_path):
        self.interpreter = interpreter
        self.script = tmp_path / "outbox_scenario.py"
        self.script.write_text(SCENARIO)
        self.path = [ROOT]
        self.heapsize = None
        if interpreter == "micropython-mpy":
            self.path = [compile_package(tmp_path / "build").parent]
            self.heapsize = "64K"

    def __call__(self, *args):
        args = [str(self.script)] + [str(a) for a in args]
        if self.interpreter == "cpython":  # the shim first on the path: `import urequests` finds it
            env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "cpython_shim"), str(ROOT)]))
            return result(subprocess.run([sys.executable] + args, env=env, capture_output=True, text=True,
                                         timeout=120))
        return result(run_micropython(args, self.path, heapsize=self.heapsize, timeout=300))


def serve(server, monkeypatch):
    monkeypatch.setenv("OUTBOX_URL", server.url)
    monkeypatch.setenv("OUTBOX_KEY", server.master_key)


@pytest.mark.parametrize("interpreter", ["cpython", "micropython", "micropython-mpy"])
def test_outbox_delivers_sets_aside_refusals_and_survives_an_outage(interpreter, tmp_path, monkeypatch):
    with running_server(tmp_path / "m2x.sqlite3") as server:
        serve(server, monkeypatch)
        device = make_device(server, [("temp", "numeric"), ("hum", "numeric"), ("note", "alphanumeric")])
        run = Runner(interpreter, tmp_path)
        box = tmp_path / "outbox"

        began = time.time_ns() // 1000000
        first = run("fill", box, device)
        ended = time.time_ns() // 1000000
        assert first == {"sent": 45, "pending": 0, "refused": SET_ASIDE}
        temp = [(at(0, 125), 21.5), (at(5, 999), -3.25e-3)] + [(at(10 + i), i) for i in range(1, 40, 2)]
        assert stored(server, device, "temp") == sorted(temp)
        hum = stored(server, device, "hum")
        now = [stamp for stamp, value in hum if value == 41]  # stamped by the client when added
        assert len(now) == 1 and began <= parse_iso8601(now[0]) <= ended
        assert [h for h in hum if h[1] != 41] == sorted([(at(1), 40)] + [(at(10 + i), i) for i in range(0, 40, 2)])
        assert stored(server, device, "note") == [(at(3), 'tab\t"quoted" \u00e9')]

        server.stop()
        outage = run("outage", box, device)
        assert outage["error"] == "NetworkError" and outage["pending"] == 3
        server.start()
        assert run("drain", box, device) == {"pending": 3, "sent": 3, "left": 0}
        assert stored(server, device, "temp")[-3:] == [("2026-01-01T00:01:%02d.000Z" % (40 + i), 100 + i) for i in range(3)]
        assert run("drain", box, device) == {"pending": 0, "sent": 0, "left": 0}


def test_a_flush_through_requests_sends_its_last_piece_at_once(tmp_path, monkeypatch):
    # requests writes the head and each piece of the body apart; under Nagle's algorithm
    # the last piece waited for the server's delayed ACK (40 ms on Linux, in 1 flush of 5
    # on loopback). The outbox sets TCP_NODELAY on requests' socket just before that piece,
    # also when the flush is the first request and urequests has not loaded requests yet,
    # and gives requests its socket module back, also when the flush fails.
    (tmp_path / "alias").mkdir()
    (tmp_path / "alias" / "urequests.py").write_text(ALIAS)
    with running_server(tmp_path / "m2x.sqlite3") as server, socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connecting is refused
        serve(server, monkeypatch)
        monkeypatch.setenv("OUTBOX_DEAD_URL", "http://127.0.0.1:%d" % closed.getsockname()[1])
        device = make_device(server, [("temp", "numeric")])
        run = Runner("micropython", tmp_path)
        run.path = [tmp_path / "alias"] + run.path
        outcome = run("corked", tmp_path / "outbox", device)
        assert stored(server, device, "temp") == [(format_iso8601((1767225600 + 200 + i) * 1000), i) for i in range(300)]
    calls = outcome.pop("calls")
    assert outcome == {"sent": 300, "loaded_before": False, "after_success": True, "error": "NetworkError",
                       "after_failure": True, "pending": 1}
    pushed = calls.index(["setsockopt", 6, 1, 1])  # IPPROTO_TCP, TCP_NODELAY
    assert pushed > 20 and calls[pushed + 1:] == [["write"]], calls  # after the head and the body's other pieces
    assert [c for c in calls if c[0] == "setsockopt"] == [["setsockopt", 6, 1, 1]]


def test_flushing_1000_readings_on_micropython(tmp_path, monkeypatch):
    with running_server(tmp_path / "m2x.sqlite3") as server:
        serve(server, monkeypatch)
        device = make_device(server, [("bench", "numeric")])
        other = make_device(server, [("bench", "numeric")])
        (tmp_path / "outbox").mkdir()
        figures = Runner("micropython", tmp_path)("bench", tmp_path / "outbox", device, other, 9)
        small = Runner("micropython-mpy", tmp_path)("small_heap", tmp_path / "small", device)
        assert stored(server, device, "bench", "2026-01-01T00:33:20Z") == [
            (format_iso8601((1767225600 + 2000 + i) * 1000), -i) for i in range(1000)]
    outbox_ms, post_ms, built_ms = [figures[k][len(figures[k]) // 2] / 1000 for k in ("outbox_us", "post_us", "built_us")]
    print("\nflush of 1,000 readings on the MicroPython unix port: median %.1f ms, %d values/s\n"
          "requests.post(json=...) of the same values, payload made before: %.1f ms, %d values/s (ratio %.2f)\n"
          "the same, payload made from (ms, value) pairs in RAM: %.1f ms, %d values/s (ratio %.2f)\n"
          "peak heap growth during the flush: %d bytes; compiled, at -X heapsize=64K: %d bytes, %d bytes free"
          % (outbox_ms, 1000 / outbox_ms * 1000, post_ms, 1000 / post_ms * 1000, post_ms / outbox_ms,
             built_ms, 1000 / built_ms * 1000, built_ms / outbox_ms, figures["growth"], small["growth"], small["free"]))
    print("each run (us):", figures)
    assert small["sent"] == 1000
    assert figures["growth"] <= 8192 and small["growth"] <= 8192
