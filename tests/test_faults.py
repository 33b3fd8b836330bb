# Every request is bounded, whatever the peer does: each fault of tests/fault_peer.py against
# m2x_micro, on CPython through the urequests shim and on the MicroPython unix port (one
# process, -X heapsize=256K, so a huge answer read whole would be a MemoryError there). A case
# names the peer's mode, the call, and what must come out: the exception type (never a bare
# OSError, ValueError or MemoryError), its errno / status / retry_after, and the time it took.
import errno
import re
import sys
import time

import pytest

import m2x_micro
from fault_peer import FaultPeer
from micropython_tools import ROOT, run_micropython
from server_process import running_server

KEY = "0123456789abcdef0123456789abcdef"
TIMEOUT = 2  # the client's timeout, seconds: a drip costs about this much
SLACK = 1.5  # past the deadline, a request must have ended within this
HEADER_DRIP = 3  # seconds a header drip lasts before the answer completes (see drip_headers)
STAMP = "2026-01-02T03:04:05.000Z"
ANY = object()
MP_HEAP = "256K"


class Case:
    def __init__(self, name, mode, options, call, kind, code=ANY, retry=ANY, fast=True,
                 at_least=None, within=TIMEOUT + SLACK, message=None, closes=False):
        self.name = name
        self.mode = mode
        self.options = options
        self.call = call  # status, post_updates, add_value, or streamed (request(data=..., length=...))
        self.kind = kind  # the exception's type name, or "OK"
        self.code = code  # NetworkError: errno; HTTPError: status
        self.retry = retry  # HTTPError.retry_after
        self.fast = fast  # must end well before the timeout: it never waits for it
        self.at_least = at_least
        self.within = within
        self.message = message  # a substring of the exception's message
        self.closes = closes  # the peer answered in full: the client must close its socket


CASES = [
    Case("refuse", "refuse", {}, "status", "NetworkError", errno.ECONNREFUSED),
    Case("refuse_write", "refuse", {}, "post_updates", "NetworkError", errno.ECONNREFUSED),
    Case("reset_request", "reset_request", {"after": 16}, "status", "NetworkError", errno.ECONNRESET),
    # The whole request arrived, no answer: a reset while the client waits for one.
    Case("reset_request_write", "reset_request", {"after": "all"}, "post_updates", "NetworkError", errno.ECONNRESET),
    # Reset after the head, while the body is still being sent (the CPython call sends the rest
    # of its body only once the peer has reset; the MicroPython one pauses 0.3 s first).
    Case("reset_request_streamed", "reset_request", {"after": "head"}, "streamed", "NetworkError", errno.ECONNRESET),
    Case("reset_response_headers", "reset_response", {"part": "headers"}, "status", "NetworkError", errno.ECONNRESET),
    Case("reset_response_body", "reset_response", {"part": "body"}, "status", "NetworkError", errno.ECONNRESET),
    Case("reset_response_write", "reset_response", {"part": "body"}, "add_value", "NetworkError", errno.ECONNRESET),
    # One byte every 0.5 s: no socket read ever times out, only the request's total deadline ends it.
    Case("drip_body", "drip_body", {"interval": 0.5}, "status", "NetworkError", errno.ETIMEDOUT,
         fast=False, at_least=TIMEOUT - 0.05, closes=True),
    Case("drip_body_write", "drip_body", {"interval": 0.5}, "add_value", "NetworkError", errno.ETIMEDOUT,
         fast=False, at_least=TIMEOUT - 0.05, closes=True),
    # Headers late, then a body that stops: the read waits only what is left of the timeout.
    Case("stall_body_late", "drip_body", {"interval": 60, "before": lambda peer: time.sleep(1.6)}, "status",
         "NetworkError", errno.ETIMEDOUT, fast=False, at_least=TIMEOUT - 0.05, within=TIMEOUT + 0.9),
    # Headers stalled past the timeout: the socket read times out.
    Case("stall_headers", "drip_headers", {"interval": 60}, "status", "NetworkError", errno.ETIMEDOUT,
         fast=False, at_least=TIMEOUT - 0.05),
    # Documented limit: the transport reads the headers, so a header drip is bounded per socket
    # read, not in total. The answer completes after HEADER_DRIP s, past the deadline: it is
    # still refused with ETIMEDOUT, and the request lasted about as long as the drip.
    Case("drip_headers", "drip_headers", {"interval": 0.5, "duration": HEADER_DRIP}, "status", "NetworkError",
         errno.ETIMEDOUT, fast=False, at_least=TIMEOUT - 0.05, within=HEADER_DRIP + SLACK),
    Case("truncate", "truncate", {"length": 1000, "send": 10}, "status", "NetworkError", closes=True),
    Case("status_500", "status", {"status": 500}, "status", "HTTPError", 500, None, message="injected 500", closes=True),
    Case("status_502", "status", {"status": 502}, "status", "HTTPError", 502, None, message="injected 502", closes=True),
    Case("status_503", "status", {"status": 503}, "status", "HTTPError", 503, None, message="injected 503", closes=True),
    Case("status_503_write", "status", {"status": 503}, "post_updates", "HTTPError", 503, None, closes=True),
    Case("retry_503", "status", {"status": 503, "headers": {"Retry-After": "7"}}, "status", "HTTPError", 503, 7,
         closes=True),
    Case("retry_429", "status", {"status": 429, "headers": {"Retry-After": "7"}}, "status", "HTTPError", 429, 7,
         message="injected 429", closes=True),
    Case("retry_429_write", "status", {"status": 429, "headers": {"Retry-After": "7"}}, "add_value", "HTTPError",
         429, 7, closes=True),
    Case("huge_error", "huge_error", {"content_length": True}, "status", "HTTPError", 502, None,
         message="Bad Gateway", closes=True),
    Case("huge_error_no_length", "huge_error", {"content_length": False}, "status", "HTTPError", 502, None,
         message="Bad Gateway", closes=True),
    Case("huge_json", "huge_json", {"content_length": True}, "status", "M2XError", message="max_body", closes=True),
    Case("huge_json_no_length", "huge_json", {"content_length": False}, "status", "M2XError", message="max_body",
         closes=True),
    Case("garbage", "garbage", {}, "status", "NetworkError", closes=True),
    Case("garbage_write", "garbage", {}, "post_updates", "NetworkError", closes=True),
]


def check(case, outcome, label):
    """outcome: (kind, code, retry, elapsed, message) from either interpreter."""
    kind, code, retry, elapsed, message = outcome
    where = "%s on %s: got %r" % (case.name, label, outcome)
    assert kind == case.kind, where
    assert KEY not in message, where
    if case.message is not None:
        assert case.message in message, where
    if case.kind == "HTTPError":
        assert code == case.code, where
        assert retry == case.retry, where
        assert len(message) < 2048, where  # an error page is read only as far as its message needs
    assert elapsed < case.within, where
    if case.fast:
        assert elapsed < TIMEOUT, where  # it never waited for the timeout: nothing hangs
    if case.at_least is not None:
        assert elapsed >= case.at_least, where
    if case.kind == "NetworkError" and case.code is not ANY:
        assert code == case.code, where


# --- CPython, through the urequests shim -------------------------------------------------

@pytest.fixture(autouse=True)
def shim(monkeypatch):
    from cpython_shim import urequests

    monkeypatch.setitem(sys.modules, "urequests", urequests)
    return urequests


def cpython_call(client, call, peer):
    if call == "status":
        return client.status()
    if call == "post_updates":
        device = m2x_micro.Device(client, {"id": "abc"})
        return device.post_updates(values={"temp": [{"timestamp": STAMP, "value": 21.5}]})
    if call == "add_value":
        return m2x_micro.Stream(client, {"name": "temp"}, "/devices/abc/streams").add_value(21.5, STAMP)
    if call == "streamed":
        def body():
            yield b"{" + b" " * 1023
            peer.reset_done.wait(5)  # the rest only once the peer has reset: mid-request, surely
            for _ in range(64):
                yield b" " * 1024
        return client.request("POST", "/devices/abc/updates", data=body(), length=65 * 1024)
    raise AssertionError(call)


def cpython_outcome(client, call, peer):
    start = time.monotonic()
    try:
        result = cpython_call(client, call, peer)
        kind, code, retry, message = "OK", None, None, repr(result)
    except m2x_micro.HTTPError as e:
        kind, code, retry, message = "HTTPError", e.status, e.retry_after, e.message
    except m2x_micro.NetworkError as e:
        kind, code, retry, message = "NetworkError", e.errno, None, str(e)
    except m2x_micro.M2XError as e:
        kind, code, retry, message = type(e).__name__, None, None, str(e)
    except Exception as e:  # noqa: BLE001 - what escaped is the failure to report
        kind, code, retry, message = "escaped:" + type(e).__name__, None, None, repr(e)
    return kind, code, retry, time.monotonic() - start, message


EXPECTED_PATHS = {"status": ("GET", "/v2/status"), "post_updates": ("POST", "/v2/devices/abc/updates"),
                  "add_value": ("PUT", "/v2/devices/abc/streams/temp/value"),
                  "streamed": ("POST", "/v2/devices/abc/updates")}


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_fault_on_cpython(case):
    with FaultPeer(case.mode, **case.options) as peer:
        client = m2x_micro.M2XClient(KEY, peer.url, timeout=TIMEOUT)
        outcome = cpython_outcome(client, case.call, peer)
        if case.closes:  # the answer was sent: the client closed its socket, leaking nothing
            assert peer.wait_client_closes(1) == 1, "%s: the client did not close its connection" % case.name
        assert peer.errors == []
        if case.mode == "refuse":
            assert peer.accepted == 0
        else:
            assert peer.accepted == 1, "%s: one request, one connection, no retry" % case.name
            method, path = EXPECTED_PATHS[case.call]
            # reset_request after 16 bytes holds only the start of the request line
            if case.options.get("after") != 16:
                assert (peer.requests[0].method, peer.requests[0].path) == (method, path)
    check(case, outcome, "CPython")


def test_proxy_to_a_restarted_server_on_cpython(tmp_path):
    with running_server(tmp_path / "m2x.sqlite3") as server, \
            FaultPeer("proxy", upstream=("127.0.0.1", server.port)) as peer:
        client = m2x_micro.M2XClient(server.master_key, peer.url, timeout=TIMEOUT)
        assert isinstance(client.status(), dict)
        server.stop()
        start = time.monotonic()
        with pytest.raises(m2x_micro.NetworkError) as down:
            client.status()
        assert time.monotonic() - start < TIMEOUT
        assert down.value.errno == errno.ECONNRESET  # the proxy found nothing upstream and reset
        server.start()
        assert isinstance(client.status(), dict)
        assert peer.accepted == 3
        assert [(r.method, r.path) for r in peer.requests] == [("GET", "/v2/status")] * 3
        assert peer.errors == []


# --- MicroPython unix port: every case in one process ---------------------------------------

MP_SCRIPT = r'''
import sys
import time
import m2x_micro

KEY = "%(key)s"
STAMP = "%(stamp)s"


def streamed_body():
    yield b"{" + b" " * 1023
    time.sleep(0.3)  # the peer resets meanwhile (either way the answer is ECONNRESET)
    for _ in range(64):
        yield b" " * 1024


def call(client, what):
    if what == "status":
        return client.status()
    if what == "post_updates":
        return m2x_micro.Device(client, {"id": "abc"}).post_updates(values={"temp": [{"timestamp": STAMP, "value": 21.5}]})
    if what == "add_value":
        return m2x_micro.Stream(client, {"name": "temp"}, "/devices/abc/streams").add_value(21.5, STAMP)
    if what == "streamed":
        return client.request("POST", "/devices/abc/updates", data=streamed_body(), length=65 * 1024)
    raise ValueError(what)


def run(name, url, what, key):
    client = m2x_micro.M2XClient(key, url, timeout=%(timeout)s)
    code = retry = None
    start = time.ticks_ms()
    try:
        message = repr(call(client, what))
        kind = "OK"
    except m2x_micro.HTTPError as e:
        kind, code, retry, message = "HTTPError", e.status, e.retry_after, e.message
    except m2x_micro.NetworkError as e:
        kind, code, message = "NetworkError", e.errno, str(e)
    except m2x_micro.M2XError as e:
        kind, message = type(e).__name__, str(e)
    except Exception as e:
        kind, message = "escaped:" + type(e).__name__, repr(e)
    ms = time.ticks_diff(time.ticks_ms(), start)
    print("case %%s %%s %%s %%s %%d.%%03ds | %%s" %% (name, kind, code, retry, ms // 1000, ms %% 1000,
                                               message[:3000].replace("\n", " ")))


for arg in sys.argv[1:]:
    name, url, what, key = arg.split(",")
    run(name, url, what, key or KEY)
print("done")
''' % {"key": KEY, "stamp": STAMP, "timeout": TIMEOUT}

LINE = re.compile(r"^case (\S+) (\S+) (\S+) (\S+) (\d+\.\d+)s \| (.*)$", re.M)


def _value(text):
    return None if text == "None" else int(text)


@pytest.fixture(scope="module")
def micropython_outcomes(tmp_path_factory):
    """Run every case, and the restarted-server series, in one micropython process; returns
    {case name: (kind, code, retry, elapsed, message)} and the peers' records."""
    tmp = tmp_path_factory.mktemp("faults_mp")
    script = tmp / "faults_mp.py"
    script.write_text(MP_SCRIPT)
    peers = {}
    try:
        with running_server(tmp / "m2x.sqlite3") as server:
            args = []
            for case in CASES:
                peers[case.name] = FaultPeer(case.mode, **case.options)
                args.append("%s,%s,%s," % (case.name, peers[case.name].url, case.call))
            # a real server behind the proxy: up, stopped before the 2nd attempt is forwarded,
            # started again before the 3rd
            proxy = peers["proxy"] = FaultPeer("proxy", upstream=("127.0.0.1", server.port))
            proxy.next("proxy", upstream=("127.0.0.1", server.port))
            proxy.next("proxy", upstream=("127.0.0.1", server.port), before=lambda peer: server.stop())
            proxy.next("proxy", upstream=("127.0.0.1", server.port), before=lambda peer: server.start())
            for name in ("proxy_up", "proxy_down", "proxy_again"):
                args.append("%s,%s,status,%s" % (name, proxy.url, server.master_key))
            start = time.monotonic()
            result = run_micropython([str(script)] + args, [ROOT], cwd=tmp, heapsize=MP_HEAP, timeout=120)
            runtime = time.monotonic() - start
    finally:
        for peer in peers.values():
            peer.close()
    print(result.stdout, result.stderr, "micropython ran %.1f s" % runtime)
    assert result.returncode == 0 and result.stdout.rstrip().endswith("done"), result.stdout + result.stderr
    outcomes = {}
    for name, kind, code, retry, elapsed, message in LINE.findall(result.stdout):
        outcomes[name] = (kind, _value(code), _value(retry), float(elapsed), message)
    return outcomes, peers


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_fault_on_micropython(case, micropython_outcomes):
    outcomes, peers = micropython_outcomes
    assert case.name in outcomes, "no line for %s" % case.name
    peer = peers[case.name]
    assert peer.errors == []
    assert peer.accepted == (0 if case.mode == "refuse" else 1)
    check(case, outcomes[case.name], "MicroPython -X heapsize=%s" % MP_HEAP)


def test_proxy_to_a_restarted_server_on_micropython(micropython_outcomes):
    outcomes, peers = micropython_outcomes
    up, down, again = outcomes["proxy_up"], outcomes["proxy_down"], outcomes["proxy_again"]
    assert up[0] == "OK" and up[4].startswith("{"), up
    assert down[:2] == ("NetworkError", errno.ECONNRESET) and down[3] < TIMEOUT, down
    assert again[0] == "OK" and again[4].startswith("{"), again
    proxy = peers["proxy"]
    assert proxy.accepted == 3
    assert [(r.method, r.path) for r in proxy.requests] == [("GET", "/v2/status")] * 3
    assert proxy.errors == []
