"""A fault-injecting HTTP peer for tests: standard library only, on 127.0.0.1, threaded.

    with FaultPeer("drip_body") as peer:      # every connection drips its answer's body
        client = m2x_micro.M2XClient(key, peer.url, timeout=2)
        ...
        peer.accepted                          # how many connections it accepted
        peer.requests                          # what it read: [Request(method, path, headers, body, complete)]

    FaultPeer("status", status=429, headers={"Retry-After": "7"})  # a mode and its options
    peer.next("reset_request", after=16)       # one-shot behaviours, used (in order) before the default
    FaultPeer("proxy", upstream=("127.0.0.1", server.port))       # forward to a real m2x_server
    FaultPeer("keep_alive", answers=1, then="drop")  # HTTP/1.1 kept alive, then a request dropped

Modes (each takes the options shown, all optional):
    refuse          a port with no listener: connecting is refused (a peer-wide mode only).
    reset_request   read `after` bytes of the request (an int; "head": through the blank
                    line; "all": all of it, body included), then reset the connection (RST:
                    SO_LINGER 0) without a byte of answer.
    reset_response  read the request, send `part` ("headers": the status line and half a
                    header; "body": complete headers with Content-Length: 100 and 10 bytes
                    of body), then reset.
    drip_headers    read the request, send the status line, then one byte of a header every
                    `interval` s for `duration` s (default: until stopped or the client
                    leaves), then the rest of a valid 200 JSON answer.
    drip_body       read the request, send valid 200 headers with Content-Length: `length`,
                    then one byte of a JSON body every `interval` s.
                    Both drips stop as soon as the client closes its end (a client close).
    truncate        read the request, announce Content-Length: `length` (1000), send `send`
                    (10) bytes, close normally (FIN).
    status          read the request, answer `status` (500) with a small JSON body (or
                    `body`), extra `headers`.
    keep_alive      as status (`status` 200 by default), but an HTTP/1.1 answer with
                    Content-Length and no `Connection: close`, and the connection stays open:
                    each next request on it is answered the same way, until the client closes
                    it. After `answers` answers (None: no limit), `then`: "close" closes the
                    connection at once, idle (FIN); "drop" reads the next request and closes
                    (FIN) without answering it.
    huge_error      read the request, answer 502 with a `size` (300 KB) HTML page, with
                    Content-Length when `content_length` (True) else ended by closing.
    huge_json       read the request, answer 200 with `size` (300 KB) of valid JSON, with
                    Content-Length when `content_length` (True) else ended by closing.
    garbage         read the request, send `data` (bytes that are not HTTP), close.
    proxy           read the request, forward it to `upstream` (host, port) and pipe bytes both
                    ways until the upstream closes; when the upstream refuses, reset the
                    client's connection. hang_up() ends the connections piped now.
Every mode also takes `before`: a callable(peer) called once the request is read (or, for
reset_request, before the reset), e.g. a server's stop or start, so one script's attempts can
meet a real server that is restarted between them.

The answers the peer makes are HTTP/1.1 with `Connection: close` (closed after sending), but
keep_alive's.

What the peer saw: `accepted` (connections), `requests` (what it read of each, in order),
`resets` and `reset_done` (an Event set after each reset it made), `client_closes` (connections
whose client was seen closing: EOF or a reset once the answer was sent), `errors` (the peer's
own failures: a test may assert there are none).

The peer stops by itself: daemon threads, every wait bounded (`max_seconds` per connection,
`lifetime` for the peer), every socket closed on exit or when its connection ends.
"""

import queue
import select
import socket
import struct
import threading
import time

HOST = "127.0.0.1"
HUGE = 300 * 1024
REASONS = {200: "OK", 202: "Accepted", 429: "Too Many Requests", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


class Request:
    """One request as the peer read it. headers: names lowercased; complete: all of it arrived
    (for reset_request: all that was read before the reset)."""

    def __init__(self, method, path, headers, body, complete, raw=b""):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.complete = complete
        self.raw = raw

    def __repr__(self):
        return "<Request %s %s %d body bytes%s>" % (self.method, self.path, len(self.body),
                                                   "" if self.complete else ", incomplete")


class _Stopped(Exception):
    pass


def _lingerless(conn):
    """Close conn with a reset (RST) rather than a FIN."""
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    conn.close()


def huge_html(size=HUGE):
    head = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>"
    tail = b"</body></html>\n"
    line = b"<p>The upstream server did not answer. Please sign in to the network portal.</p>\n"
    filler = (line * (size // len(line) + 1))[: size - len(head) - len(tail)]
    return head + filler + tail


def huge_json(size=HUGE):
    head, tail = b'{"status":"ok","pad":"', b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


class FaultPeer:
    def __init__(self, mode="status", max_seconds=30.0, lifetime=120.0, read_timeout=5.0, **options):
        self.mode = (mode, options)
        self.max_seconds = max_seconds  # no connection lives longer
        self.read_timeout = read_timeout  # for reading a request
        self.accepted = 0
        self.requests = []
        self.resets = 0  # connections the peer ended with a reset
        self.reset_done = threading.Event()  # set after each reset (a test's body generator may wait on it)
        self.client_closes = 0  # connections whose client was seen closing its end (EOF, or a reset)
        self.errors = []  # what went wrong in the peer itself (a test may assert it is empty)
        self._queue = queue.Queue()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sockets = set()
        self._piping = set()  # client connections a proxy pipes now
        self._hung_up = set()  # those hang_up() ended
        self._threads = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind((HOST, 0))
        self.port = self._listener.getsockname()[1]
        self.url = "http://%s:%d" % (HOST, self.port)
        self._deadline = time.monotonic() + lifetime
        self._acceptor = None
        # "refuse": the socket stays bound (the port stays ours) but never listens, so the
        # kernel answers every connection attempt with a reset (ECONNREFUSED).
        if mode != "refuse":
            self._listener.listen(16)
            self._listener.settimeout(0.1)
            self._acceptor = threading.Thread(target=self._accept_loop, name="fault-peer-accept", daemon=True)
            self._acceptor.start()

    # --- life cycle --------------------------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._stop.set()
        if self._acceptor is not None:
            self._acceptor.join(5)
        self._listener.close()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(5)
        with self._lock:
            leftover = list(self._sockets)
            self._sockets.clear()
        for sock in leftover:  # a thread that did not end in time: its sockets go anyway
            _lingerless(sock)

    def next(self, mode, **options):
        """Use this behaviour for the next connection not yet taken by an earlier next()."""
        if mode == "refuse" or not hasattr(self, "_mode_" + mode):
            raise ValueError("not a per-connection mode: %r" % mode)
        self._queue.put((mode, options))
        return self

    def hang_up(self):
        """End the proxied connections open now, as a server that goes down ends its own: each
        client gets a FIN at once, the upstream connection is closed. Later connections are
        served as ever."""
        with self._lock:
            piping = list(self._piping)
            self._hung_up.update(piping)
        for conn in piping:
            try:
                conn.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the client is gone already

    def wait_accepted(self, count, timeout=5.0):
        """Wait until `count` connections were accepted; returns the count."""
        end = time.monotonic() + timeout
        while self.accepted < count and time.monotonic() < end:
            time.sleep(0.01)
        return self.accepted

    # --- plumbing ------------------------------------------------------------------------
    def _accept_loop(self):
        while not self._stop.is_set() and time.monotonic() < self._deadline:
            try:
                conn, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            try:
                mode, options = self._queue.get_nowait()
            except queue.Empty:
                mode, options = self.mode
            with self._lock:
                self.accepted += 1
                self._sockets.add(conn)
                thread = threading.Thread(target=self._serve, args=(conn, mode, options),
                                          name="fault-peer-" + mode, daemon=True)
                self._threads.append(thread)
            thread.start()

    def _track(self, sock):
        with self._lock:
            self._sockets.add(sock)

    def _untrack(self, sock):
        with self._lock:
            known = sock in self._sockets
            self._sockets.discard(sock)
        return known

    def _serve(self, conn, mode, options):
        end = time.monotonic() + self.max_seconds
        reset = False
        try:
            options = dict(options)
            before = options.pop("before", None)
            # Every mode starts the same: the request read (a reset_request only part of it,
            # 16 bytes unless told), then the test's hook.
            after = options.pop("after", 16 if mode == "reset_request" else None)
            raw = self._read_request(conn, end, after=after)
            if before:
                before(self)
            reset = getattr(self, "_mode_" + mode)(conn, end, raw, **options)
        except _Stopped:
            reset = True  # the peer is stopping, or the connection outlived max_seconds
        except OSError:
            reset = True  # the client left while the peer was sending or reading
            self._client_closed()
        except Exception as e:  # noqa: BLE001 - a bug in the peer: recorded for the test
            self.errors.append("%s: %r" % (mode, e))
            reset = True
        finally:
            if self._untrack(conn):
                if reset:
                    _lingerless(conn)
                    with self._lock:
                        self.resets += 1
                    self.reset_done.set()
                else:
                    conn.close()

    def _client_closed(self):
        with self._lock:
            self.client_closes += 1

    def wait_client_closes(self, count, timeout=5.0):
        """Wait until clients were seen closing `count` connections; returns the count."""
        end = time.monotonic() + timeout
        while self.client_closes < count and time.monotonic() < end:
            time.sleep(0.01)
        return self.client_closes

    def _check(self, end):
        if self._stop.is_set() or time.monotonic() > end:
            raise _Stopped()

    def _recv(self, conn, end, limit=65536):
        """Some bytes (b"" at the end), waiting in short steps so a stop is seen."""
        conn.settimeout(0.1)
        while True:
            self._check(end)
            try:
                return conn.recv(limit)
            except socket.timeout:
                continue

    def _pause(self, conn, seconds):
        """Wait `seconds` between two sends, watching the client: if it closes its end
        meanwhile, OSError (as the next send would raise, only sooner); a stop ends the wait."""
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            if self._stop.is_set():
                raise _Stopped()
            if select.select([conn], [], [], min(left, 0.1))[0]:
                if not conn.recv(1, socket.MSG_PEEK):  # a reset raises here
                    raise ConnectionAbortedError("the client closed its end")
                time.sleep(min(left, 0.1))  # bytes from the client: not read, not a close

    def _send(self, conn, data, end):
        conn.settimeout(0.5)
        view = memoryview(data)
        while view:
            self._check(end)
            try:
                sent = conn.send(view)
            except socket.timeout:
                continue
            view = view[sent:]

    def _read_request(self, conn, end, after=None):
        """Read one request (head, then a body by Content-Length or chunked) and record it.
        after: stop once that many bytes are read (an int), or after the head ("head");
        None or "all": the whole request."""
        if after == "all":
            after = None
        end = min(end, time.monotonic() + self.read_timeout)
        raw = b""
        complete = False
        try:
            while b"\r\n\r\n" not in raw and len(raw) < 65536:
                if isinstance(after, int) and len(raw) >= after:
                    break
                chunk = self._recv(conn, end, after - len(raw) if isinstance(after, int) else 65536)
                if not chunk:
                    break
                raw += chunk
            head_end = raw.find(b"\r\n\r\n")
            if head_end >= 0 and after is None:
                head = raw[:head_end]
                body = raw[head_end + 4:]
                headers = _parse_headers(head)
                if "chunked" in headers.get("transfer-encoding", "").lower():
                    body, complete, extra = self._read_chunked(conn, end, body)
                    raw += extra
                else:
                    length = int(headers.get("content-length", "0") or 0)
                    while len(body) < length:
                        chunk = self._recv(conn, end, length - len(body))
                        if not chunk:
                            break
                        body += chunk
                        raw += chunk
                    complete = len(body) >= length
        except _Stopped:
            pass
        self._record(raw, complete)
        return raw

    def _await_request(self, conn, end):
        """On a kept-alive connection: wait for the client's next request and read it (see
        _read_request); None when the client closes the connection instead."""
        conn.settimeout(0.1)
        while True:
            self._check(end)
            try:
                if not conn.recv(1, socket.MSG_PEEK):
                    self._client_closed()
                    return None
            except socket.timeout:
                continue
            return self._read_request(conn, end)

    def _read_chunked(self, conn, end, buffered):
        body = b""
        data = buffered
        extra = b""
        while True:
            while b"\r\n" not in data:
                chunk = self._recv(conn, end)
                if not chunk:
                    return body, False, extra
                data += chunk
                extra += chunk
            line, data = data.split(b"\r\n", 1)
            size = int(line.split(b";")[0].strip() or b"0", 16)
            while len(data) < size + 2:
                chunk = self._recv(conn, end)
                if not chunk:
                    return body, False, extra
                data += chunk
                extra += chunk
            body += data[:size]
            data = data[size + 2:]
            if size == 0:
                return body, True, extra

    def _record(self, raw, complete):
        head, _, rest = raw.partition(b"\r\n\r\n")
        first = head.split(b"\r\n", 1)[0].split()
        method = first[0].decode("latin-1") if first else ""
        path = first[1].decode("latin-1") if len(first) > 1 else ""
        headers = _parse_headers(head)
        body = rest
        if "chunked" in headers.get("transfer-encoding", "").lower() and complete:
            body = _dechunk(rest)
        with self._lock:
            self.requests.append(Request(method, path, headers, body, complete, raw))

    def _finish(self, conn, end):
        """End an answer normally: FIN, then wait (bounded) for the client to close, so no
        unread byte of the client turns the close into a reset."""
        try:
            conn.shutdown(socket.SHUT_WR)
            wait_end = min(end, time.monotonic() + 3)
            while self._recv(conn, wait_end, 4096):
                pass
            self._client_closed()  # EOF: the client closed its end
        except OSError:
            self._client_closed()  # a reset: the client closed with bytes of ours unread
        except _Stopped:
            pass
        return False

    def _answer_head(self, status, reason, headers, length=None, keep_alive=False):
        lines = ["HTTP/1.1 %d %s" % (status, reason)]
        for name, value in headers:
            lines.append("%s: %s" % (name, value))
        if length is not None:
            lines.append("Content-Length: %d" % length)
        if not keep_alive:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def _answer(self, status, body, headers, keep_alive=False):
        """A whole answer: `status` with `body` (default: a small JSON message), extra `headers`."""
        if body is None:
            body = ('{"message":"injected %d"}' % status).encode()
        fields = [("Content-Type", "application/json")] + list((headers or {}).items())
        return self._answer_head(status, REASONS.get(status, "Error"), fields, len(body), keep_alive) + body

    # --- modes: each gets the request as read (see _serve) and returns True to end with a
    # reset, False for a normal close
    def _mode_reset_request(self, conn, end, raw):
        # The request's bytes not read stay in the socket: closing would reset anyway, but
        # SO_LINGER 0 makes it a reset in every case.
        return True

    def _mode_reset_response(self, conn, end, raw, part="headers"):
        if part == "headers":
            data = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Le"
        else:
            data = self._answer_head(200, "OK", [("Content-Type", "application/json")], 100) + b'{"status":'
        self._send(conn, data, end)
        time.sleep(0.05)  # the bytes arrive before the reset
        return True

    def _mode_drip_headers(self, conn, end, raw, interval=0.5, duration=None):
        self._send(conn, b"HTTP/1.1 200 OK\r\nX-Drip: ", end)
        drip_end = end if duration is None else min(end, time.monotonic() + duration)
        while time.monotonic() < drip_end:
            self._pause(conn, interval)
            self._send(conn, b"d", end)
        self._send(conn, b"\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", end)
        return self._finish(conn, end)

    def _mode_drip_body(self, conn, end, raw, interval=0.5, length=1000):
        body = huge_json(length)
        self._send(conn, self._answer_head(200, "OK", [("Content-Type", "application/json")], len(body)), end)
        for i in range(len(body)):
            self._send(conn, body[i:i + 1], end)
            self._pause(conn, interval)
        return self._finish(conn, end)

    def _mode_truncate(self, conn, end, raw, length=1000, send=10):
        body = huge_json(length)
        self._send(conn, self._answer_head(200, "OK", [("Content-Type", "application/json")], length) + body[:send], end)
        return self._finish(conn, end)

    def _mode_status(self, conn, end, raw, status=500, body=None, headers=None):
        self._send(conn, self._answer(status, body, headers), end)
        return self._finish(conn, end)

    def _mode_keep_alive(self, conn, end, raw, status=200, body=None, headers=None, answers=None,
                         then="drop"):
        served = 0
        while True:
            self._send(conn, self._answer(status, body, headers, keep_alive=True), end)
            served += 1
            if served == answers and then == "close":
                return self._finish(conn, end)
            # the next request: answered, or (after `answers`) read and dropped with a FIN
            if self._await_request(conn, end) is None or served == answers:
                return False

    def _mode_huge_error(self, conn, end, raw, size=HUGE, content_length=True):
        return self._huge(conn, end, 502, "Bad Gateway", "text/html", huge_html(size), content_length)

    def _mode_huge_json(self, conn, end, raw, size=HUGE, content_length=True):
        return self._huge(conn, end, 200, "OK", "application/json", huge_json(size), content_length)

    def _huge(self, conn, end, status, reason, content_type, body, content_length):
        # An answer far larger than a client may read, with or without its Content-Length.
        head = self._answer_head(status, reason, [("Content-Type", content_type)], len(body) if content_length else None)
        try:
            self._send(conn, head + body, end)
        except OSError:
            self._client_closed()
            return True  # the client read what it needed and left: as intended
        return self._finish(conn, end)

    def _mode_garbage(self, conn, end, raw, data=b"\x00\xffSSH-2.0-OpenSSH_9.6 not http at all\r\n\x16\x03\x01garbage\r\n\r\n"):
        self._send(conn, data, end)
        return self._finish(conn, end)

    def _mode_proxy(self, conn, end, raw, upstream=None):
        up = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._track(up)
        try:
            up.settimeout(2)
            try:
                up.connect(upstream)
            except OSError:
                return True  # nothing upstream: the client's connection is reset
            self._send(up, raw, end)
            self._pipe(conn, up, end)
        finally:
            if self._untrack(up):
                up.close()
        return self._finish(conn, end)

    def _pipe(self, conn, up, end):
        """Bytes both ways until the upstream has answered and closed (or hang_up())."""
        conn.setblocking(False)
        up.setblocking(False)
        client_open = True
        with self._lock:
            self._piping.add(conn)
        try:
            while True:
                self._check(end)
                readable, _, _ = select.select([up] + ([conn] if client_open else []), [], [], 0.1)
                if conn in self._hung_up:  # after the wait: nothing that came meanwhile is forwarded
                    return
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        if sock is up:
                            return
                        client_open = False
                        up.shutdown(socket.SHUT_WR)
                        continue
                    other = conn if sock is up else up
                    self._send(other, data, end)  # with a timeout, in short steps
                    other.setblocking(False)
        finally:
            with self._lock:
                self._piping.discard(conn)
            conn.setblocking(True)
            up.setblocking(True)


def _parse_headers(head):
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        if sep:
            headers[name.decode("latin-1").strip().lower()] = value.decode("latin-1").strip()
    return headers


def _dechunk(data):
    body = b""
    while data:
        line, _, data = data.partition(b"\r\n")
        size = int(line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            break
        body += data[:size]
        data = data[size + 2:]
    return body
