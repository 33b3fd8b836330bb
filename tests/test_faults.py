# Every request is bounded, whatever the peer does: each fault of tests/fault_peer.py against
# m2x_micro, on CPython and on the MicroPython unix port (one process, -X heapsize=256K, so a
# huge answer read whole would be a MemoryError there), through each transport: "urequests",
# the client's default (the urequests shim on CPython, micropython-lib's requests on the unix
# port), and "keepalive", m2x_micro.transport.Transport (HTTP/1.1, one connection kept open and
# reused). A case names the peer's mode, the call, and what must come out: the exception type
# (never a bare OSError, ValueError or MemoryError), its errno / status / retry_after, the time
# it took; and what the peer saw: the connections, the requests, the closes.
import copy
import errno
import re
import sys
import time

import pytest

import m2x_micro
from fault_peer import FaultPeer, huge_html
from micropython_tools import ROOT, run_micropython
from server_process import running_server

KEY = "0123456789abcdef0123456789abcdef"
TIMEOUT = 2  # the client's timeout, seconds: a drip costs about this much
SLACK = 1.5  # past the deadline, a request must have ended within this
HEADER_DRIP = 3  # seconds a header drip lasts before the answer completes (see drip_headers)
STAMP = "2026-01-02T03:04:05.000Z"
ANY = object()
MP_HEAP = "256K"
TRANSPORTS = ("urequests", "keepalive")
IDLE = 0.3  # seconds between two calls, for a peer's close of an idle connection to arrive


class Case:
    def __init__(self, name, mode, options, call, kind, code=ANY, retry=ANY, fast=True,
                 at_least=None, within=TIMEOUT + SLACK, message=None, closes=False, kept=False,
                 first=None, idle=0, accepted=None, sent=1, transports=TRANSPORTS, keepalive=None):
        self.name = name
        self.mode = mode
        self.options = options
        self.call = call  # status, post_updates, add_value, send_command, or streamed (request(data=..., length=...))
        self.kind = kind  # the exception's type name, or "OK"
        self.code = code  # NetworkError: errno; HTTPError: status
        self.retry = retry  # HTTPError.retry_after
        self.fast = fast  # must end well before the timeout: it never waits for it
        self.at_least = at_least
        self.within = within
        self.message = message  # a substring of the exception's message
        self.closes = int(closes)  # connections the client closes by itself (the peer sees it) in the call
        self.kept = kept  # the call leaves a connection open for the next request: closed with the transport
        self.first = first  # a call made before, on the same client: its answer must be OK
        self.idle = idle  # seconds between the first call and the call
        self.accepted = (0 if mode == "refuse" else 1) if accepted is None else accepted  # connections
        self.sent = sent  # times the peer reads the call's request (2: sent again on a new connection)
        self.transports = transports
        self.keepalive = keepalive or {}  # what is expected otherwise with the keepalive transport

    @property
    def calls(self):
        return ([self.first] if self.first else []) + [self.call]

    def between(self, i):
        """Before call i > 0: the idle time, in which the peer may close a kept connection."""
        time.sleep(self.idle)

    def requests(self):
        """(method, path) of each request the peer must have read."""
        if self.mode == "refuse":
            return []
        return [EXPECTED_PATHS[call] for call in self.calls[:-1]] + [EXPECTED_PATHS[self.call]] * self.sent

    def on(self, transport):
        """The case as expected with that transport."""
        case = copy.copy(self)
        if transport == "keepalive":
            vars(case).update(self.keepalive)
        return case


# Where the peer is gone (refused, reset) it cannot see the client close: closes is not asserted.
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
    # (The keepalive transport closes its connection there: the peer sees it.)
    Case("stall_body_late", "drip_body", {"interval": 60, "before": lambda peer: time.sleep(1.6)}, "status",
         "NetworkError", errno.ETIMEDOUT, fast=False, at_least=TIMEOUT - 0.05, within=TIMEOUT + 0.9,
         keepalive=dict(closes=True)),
    # Headers stalled past the timeout: the socket read times out.
    Case("stall_headers", "drip_headers", {"interval": 60}, "status", "NetworkError", errno.ETIMEDOUT,
         fast=False, at_least=TIMEOUT - 0.05, keepalive=dict(closes=True)),
    # Documented limit of urequests: it reads the headers, so a header drip is bounded per
    # socket read, not in total. The answer completes after HEADER_DRIP s, past the deadline:
    # it is still refused with ETIMEDOUT, and the request lasted about as long as the drip.
    # The keepalive transport bounds the headers by the deadline: it ends then, well before
    # the drip would.
    Case("drip_headers", "drip_headers", {"interval": 0.5, "duration": HEADER_DRIP}, "status", "NetworkError",
         errno.ETIMEDOUT, fast=False, at_least=TIMEOUT - 0.05, within=HEADER_DRIP + SLACK,
         keepalive=dict(within=TIMEOUT + 0.5, closes=True)),
    Case("truncate", "truncate", {"length": 1000, "send": 10}, "status", "NetworkError", closes=True),
    Case("status_500", "status", {"status": 500}, "status", "HTTPError", 500, None, message="injected 500", closes=True),
    Case("status_502", "status", {"status": 502}, "status", "HTTPError", 502, None, message="injected 502", closes=True),
    Case("status_503", "status", {"status": 503}, "status", "HTTPError", 503, None, message="injected 503", closes=True),
    Case("status_503_write", "status", {"status": 503}, "post_updates", "HTTPError", 503, None, closes=True),
    Case("retry_503", "status", {"status": 503, "headers": {"Retry-After": "7"}}, "status", "HTTPError", 503, 7,
         closes=True),
    # The same answer, but one that lets the connection stay open (HTTP/1.1, Content-Length, no
    # Connection: close): urequests closes it all the same, the keepalive transport keeps it
    # for the next request, until its close().
    Case("retry_503_kept_alive", "keep_alive", {"status": 503, "headers": {"Retry-After": "7"}}, "status",
         "HTTPError", 503, 7, message="injected 503", closes=True, keepalive=dict(closes=False, kept=True)),
    Case("retry_429", "status", {"status": 429, "headers": {"Retry-After": "7"}}, "status", "HTTPError", 429, 7,
         message="injected 429", closes=True),
    Case("retry_429_write", "status", {"status": 429, "headers": {"Retry-After": "7"}}, "add_value", "HTTPError",
         429, 7, closes=True),
    Case("huge_error", "huge_error", {"content_length": True}, "status", "HTTPError", 502, None,
         message="Bad Gateway", closes=True),
    Case("huge_error_no_length", "huge_error", {"content_length": False}, "status", "HTTPError", 502, None,
         message="Bad Gateway", closes=True),
    # The same page, on a connection that may be kept: the client reads only the start of it,
    # so it must close the connection all the same (the rest would be read as the next answer).
    Case("huge_error_kept_alive", "keep_alive", {"status": 502, "body": huge_html()}, "status", "HTTPError", 502,
         None, message="Bad Gateway", closes=True),
    Case("huge_json", "huge_json", {"content_length": True}, "status", "M2XError", message="max_body", closes=True),
    Case("huge_json_no_length", "huge_json", {"content_length": False}, "status", "M2XError", message="max_body",
         closes=True),
    Case("garbage", "garbage", {}, "status", "NetworkError", closes=True),
    Case("garbage_write", "garbage", {}, "post_updates", "NetworkError", closes=True),
    # Only the keepalive transport reuses a connection. The peer closes it while idle: the next
    # request, a command (never sent twice), goes over a new connection, the close having been
    # seen before sending; the first connection is closed on the client's side then.
    Case("closed_while_idle", "keep_alive", {"answers": 1, "then": "close"}, "send_command", "OK",
         first="status", idle=IDLE, accepted=2, closes=1, kept=True, transports=("keepalive",)),
    # The peer reads the request sent over the kept connection and closes it without a byte of
    # answer: the request is sent again, once, on a new connection, unless repeating it could
    # repeat an effect (a command); values are stamped, so sending them twice stores them once.
    Case("dropped_get_sent_again", "keep_alive", {"answers": 1, "then": "drop"}, "status", "OK",
         first="status", accepted=2, sent=2, kept=True, transports=("keepalive",)),
    Case("dropped_command_not_sent_again", "keep_alive", {"answers": 1, "then": "drop"}, "send_command",
         "NetworkError", errno.ECONNRESET, first="status", transports=("keepalive",)),
    Case("dropped_updates_sent_again", "keep_alive", {"answers": 1, "then": "drop"}, "post_updates", "OK",
         first="status", accepted=2, sent=2, kept=True, transports=("keepalive",)),
]

PARAMS = [pytest.param(transport, case, id="%s-%s" % (transport, case.name))
          for transport in TRANSPORTS for case in CASES if transport in case.transports]

EXPECTED_PATHS = {"status": ("GET", "/v2/status"), "post_updates": ("POST", "/v2/devices/abc/updates"),
                  "add_value": ("PUT", "/v2/devices/abc/streams/temp/value"),
                  "send_command": ("POST", "/v2/commands"), "streamed": ("POST", "/v2/devices/abc/updates")}


class Run:
    """What one client did against one peer, on either interpreter: its calls in turn
    (between(i) before call i > 0), the outcome of each (kind, code, retry, elapsed, message),
    and, when it watches a case's closes, how many connections the peer had seen it close:
    once the calls were over, and once its transport was closed (urequests has nothing to
    close)."""

    def __init__(self, transport, peer, calls, between, watch=None, key=KEY):
        self.transport = transport
        self.peer = peer
        self.calls = calls
        self.between = between
        self.watch = watch  # the case whose closes are waited for and noted; None: not watched
        self.key = key
        self.outcomes = []
        self.closes = []

    def note_closes(self):
        """Waits as long as the case's closes take to show, and a moment longer while a kept
        connection should still be open, so a close that came anyway shows too."""
        if self.watch is None:
            return
        expected = self.watch.closes + (self.watch.kept if self.closes else 0)
        self.peer.wait_client_closes(expected)
        if self.watch.kept and not self.closes:
            self.peer.wait_client_closes(expected + 1, timeout=0.3)
        self.closes.append(self.peer.client_closes)


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


def check_run(case, run, label):
    """The calls before the last answered, the last as the case says, and what the peer saw
    (the closes, where the run watched them)."""
    where = "%s on %s" % (case.name, label)
    assert len(run.outcomes) == len(case.calls), "%s: %r" % (where, run.outcomes)
    for outcome in run.outcomes[:-1]:
        assert outcome[0] == "OK", "%s: a call before: %r" % (where, outcome)
    check(case, run.outcomes[-1], label)
    peer = run.peer
    assert peer.errors == [], where
    assert peer.accepted == case.accepted, "%s: %d connections, not %d (a retry?)" % (where, peer.accepted,
                                                                                   case.accepted)
    if case.options.get("after") != 16:  # reset_request after 16 bytes holds only the start of the request line
        assert [(r.method, r.path) for r in peer.requests] == case.requests(), "%s: %r" % (where, peer.requests)
    if run.watch is not None and (case.closes or case.kept):
        assert run.closes == [case.closes, case.closes + case.kept], \
            "%s: the client closed %r connections (after the calls, after its close())" % (where, run.closes)


def restart(server, proxy):
    """between(i) of the restarted-server series: before the 2nd attempt the server goes down,
    and the connections through the proxy with it (as a server process's end with the process:
    an in-process server's stop leaves its kept-alive connections open), before the 3rd it is
    up again."""
    def between(i):
        if i == 1:
            server.stop()
            proxy.hang_up()
        else:
            server.start()
    return between


def check_restarted_series(run, label):
    where = "the restarted-server series on %s: %r" % (label, run.outcomes)
    assert len(run.outcomes) == 3, where
    up, down, again = run.outcomes
    assert up[0] == "OK" and up[4].startswith("{"), where
    # the proxy found nothing upstream and reset, at once
    assert down[:2] == ("NetworkError", errno.ECONNRESET) and down[3] < TIMEOUT, where
    assert again[0] == "OK" and again[4].startswith("{"), where
    assert run.peer.accepted == 3, where
    assert [(r.method, r.path) for r in run.peer.requests] == [("GET", "/v2/status")] * 3, where
    assert run.peer.errors == [], where


# --- CPython ---------------------------------------------------------------------------------

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
    if call == "send_command":
        return client.send_command(name="reboot")
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


def run_on_cpython(run):
    if run.transport == "keepalive":
        from m2x_micro.transport import Transport

        http = Transport()
    else:
        http = None  # the client's default: the shim
    client = m2x_micro.M2XClient(run.key, run.peer.url, timeout=TIMEOUT, transport=http)
    for i, call in enumerate(run.calls):
        if i:
            run.between(i)
        run.outcomes.append(cpython_outcome(client, call, run.peer))
    run.note_closes()
    if http is not None:
        http.close()
    run.note_closes()


@pytest.mark.parametrize("transport,case", PARAMS)
def test_fault_on_cpython(transport, case):
    case = case.on(transport)
    with FaultPeer(case.mode, **case.options) as peer:
        run = Run(transport, peer, case.calls, case.between, watch=case)
        run_on_cpython(run)
    check_run(case, run, "CPython, " + transport)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_proxy_to_a_restarted_server_on_cpython(transport, tmp_path):
    with running_server(tmp_path / "m2x.sqlite3") as server, \
            FaultPeer("proxy", upstream=("127.0.0.1", server.port)) as peer:
        run = Run(transport, peer, ["status"] * 3, restart(server, peer), key=server.master_key)
        run_on_cpython(run)
    check_restarted_series(run, "CPython, " + transport)


# --- MicroPython unix port: every run in one process ------------------------------------------

MP_SCRIPT = r'''
import sys
import time
import m2x_micro
from m2x_micro.transport import Transport

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
    if what == "send_command":
        return client.send_command(name="reboot")
    if what == "streamed":
        return client.request("POST", "/devices/abc/updates", data=streamed_body(), length=65 * 1024)
    raise ValueError(what)


def outcome(client, what):
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
    return kind, code, retry, time.ticks_diff(time.ticks_ms(), start), message


def tell(where):
    # The test acts on it (stops a server, notes what a peer saw...) before this returns.
    m2x_micro.M2XClient(KEY, sys.argv[1]).request("GET", "/" + where)


for arg in sys.argv[2:]:
    transport, name, url, calls, key = arg.split(",")
    http = Transport() if transport == "keepalive" else None
    client = m2x_micro.M2XClient(key, url, timeout=%(timeout)s, transport=http)
    for i, what in enumerate(calls.split("/")):
        if i:
            tell("between/%%s/%%s/%%d" %% (transport, name, i))
        kind, code, retry, ms, message = outcome(client, what)
        print("case %%s %%s %%s %%s %%s %%d.%%03ds | %%s" %% (transport, name, kind, code, retry, ms // 1000,
                                                     ms %% 1000, message[:3000].replace("\n", " ")))
    tell("called/%%s/%%s" %% (transport, name))
    if http:
        http.close()
    tell("closed/%%s/%%s" %% (transport, name))
print("done")
''' % {"key": KEY, "stamp": STAMP, "timeout": TIMEOUT}

LINE = re.compile(r"^case (\S+) (\S+) (\S+) (\S+) (\S+) (\d+\.\d+)s \| (.*)$", re.M)


def _value(text):
    return None if text == "None" else int(text)


@pytest.fixture(scope="module")
def micropython_runs(tmp_path_factory):
    """Every case through each transport, and the restarted-server series through each, in one
    micropython process; returns {(transport, case name or "restarted_server"): Run}. The
    script tells a peer of its own where it is: between two calls, once the calls are over,
    once its transport is closed; the run's between() and note_closes() are called then."""
    tmp = tmp_path_factory.mktemp("faults_mp")
    script = tmp / "faults_mp.py"
    script.write_text(MP_SCRIPT)
    runs = {}

    def told(teller):
        stage, transport, name, *step = teller.requests[-1].path.split("/")[2:]
        run = runs[transport, name]
        if stage == "between":
            run.between(int(step[0]))
        else:
            run.note_closes()

    def peer(mode, **options):
        return FaultPeer(mode, lifetime=600, **options)  # the process runs every case in turn

    teller = peer("status", status=200, before=told)
    try:
        with running_server(tmp / "m2x.sqlite3") as server:
            for param in PARAMS:
                transport, case = param.values
                case = case.on(transport)
                # The closes of micropython-lib's requests are not watched: it leaves the socket
                # of an answer that is not HTTP open (the ValueError of its status line skips
                # its close).
                watch = case if transport == "keepalive" else None
                runs[transport, case.name] = Run(transport, peer(case.mode, **case.options), case.calls,
                                                 case.between, watch)
            for transport in TRANSPORTS:
                proxy = peer("proxy", upstream=("127.0.0.1", server.port))
                runs[transport, "restarted_server"] = Run(transport, proxy, ["status"] * 3, restart(server, proxy),
                                                          key=server.master_key)
            args = [teller.url] + ["%s,%s,%s,%s,%s" % (transport, name, run.peer.url, "/".join(run.calls), run.key)
                                   for (transport, name), run in runs.items()]
            start = time.monotonic()
            result = run_micropython([str(script)] + args, [ROOT], cwd=tmp, heapsize=MP_HEAP, timeout=300)
            runtime = time.monotonic() - start
    finally:
        for run in runs.values():
            run.peer.close()
        teller.close()
    print(result.stdout, result.stderr, "micropython ran %.1f s" % runtime)
    assert result.returncode == 0 and result.stdout.rstrip().endswith("done"), result.stdout + result.stderr
    assert teller.errors == [], teller.errors
    for transport, name, kind, code, retry, elapsed, message in LINE.findall(result.stdout):
        runs[transport, name].outcomes.append((kind, _value(code), _value(retry), float(elapsed), message))
    return runs


@pytest.mark.parametrize("transport,case", PARAMS)
def test_fault_on_micropython(transport, case, micropython_runs):
    check_run(case.on(transport), micropython_runs[transport, case.name],
              "MicroPython -X heapsize=%s, %s" % (MP_HEAP, transport))


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_proxy_to_a_restarted_server_on_micropython(transport, micropython_runs):
    check_restarted_series(micropython_runs[transport, "restarted_server"], "MicroPython, " + transport)
