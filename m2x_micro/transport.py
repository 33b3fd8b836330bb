# An HTTP/1.1 transport for M2XClient(..., transport=Transport(ca=...)): one connection
# kept open and reused, https verified against the CA given, every wait (connect, TLS,
# headers, body) bounded by the request's deadline. Runs on MicroPython (socket, tls) and
# CPython (socket, ssl). An add-on: the core never imports it.
#
# Sent again, once, on a new connection: a request that failed on a reused connection
# before any byte of its answer arrived (the server had closed it), if repeating it cannot
# repeat an effect: GET, HEAD, PUT, DELETE, and a POST of values (/update, /updates,
# /values), since this client stamps every value it writes and the server keeps one value
# per stream and stamp. Other POSTs (send_command, create_device...) are never repeated.
import errno
import socket
import time

try:
    import tls  # MicroPython
except ImportError:
    import ssl as tls  # CPython

from select import POLLIN, poll

from m2x_micro import elapsed_ms

_HEAD_MAX = 4096  # bytes of an answer's status line and headers read at most
_NOT_YET = "certificate not yet valid"
_VERDICTS = (("match", "wrong host name"), ("expired", "expired certificate"), ("future", _NOT_YET),
             ("not yet", _NOT_YET), ("signed", "unknown CA"), ("issuer", "unknown CA"))
_warned = []  # insecure=True warns once a process


def _der(ca):
    # The first certificate of ca (DER or PEM bytes, or a file of either) as DER: the
    # form MicroPython's tls takes.
    if isinstance(ca, str):
        with open(ca, "rb") as f:
            ca = f.read()
    if ca[:5] != b"-----":
        return ca
    from binascii import a2b_base64
    lines = ca.split(b"-----")[2].split()  # what lies between BEGIN and END
    return a2b_base64(b"".join(lines))


def _verdict(exc):
    # What a refused certificate was refused for, from the TLS library's message; None
    # for other failures.
    text = str(exc).lower()
    found = []
    for word, verdict in _VERDICTS:
        if word in text and verdict not in found:
            found.append(verdict)
    return " and ".join(found) or None


def _rtc_fields(date):
    # An HTTP Date ("Wed, 02 Dec 2026 07:02:47 GMT") as machine.RTC().datetime() fields.
    day, month, year, clock = date.split()[1:5]
    h, m, s = clock.split(":")
    return (int(year), "JanFebMarAprMayJunJulAugSepOctNovDec".index(month) // 3 + 1, int(day),
            "MonTueWedThuFriSatSun".index(date[:3]) // 3, int(h), int(m), int(s), 0)


class Transport:
    def __init__(self, ca=None, insecure=False):
        """ca: the CA certificate that signed the server's, as DER or PEM bytes or the name
        of a file holding it; needed for https. insecure=True: https without checking the
        server at all (anyone on the network can then read the API key)."""
        if insecure and not _warned:
            _warned.append(1)
            print("m2x_micro.transport: https NOT verified (insecure=True)")
        self._ca = ca
        self._insecure = insecure
        self._context = None
        self._leaf = None  # the server's certificate, seen while the clock is not known
        self.opened = 0  # connections opened: with reuse, far fewer than requests
        self._sock = self._plain = None
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Close the connection (the next request opens a new one)."""
        for sock in (self._sock, self._plain):
            if sock is not None:
                try:
                    sock.close()
                except OSError:
                    pass
        self._sock = self._plain = self._to = None  # _to: (scheme, authority) it goes to
        self._buf = b""

    # urequests' signature, as M2XClient calls it: the answer's status_code and headers
    # are read, its body through raw.recv(), then it is closed.
    def request(self, method, url, data=None, headers=None, timeout=10, stream=True):
        self._start, self._ms = elapsed_ms(0), int(timeout * 1000)
        scheme, rest = url.split("://", 1)
        authority, _, target = rest.partition("/")
        if isinstance(data, str):
            data = data.encode()
        head = self._head(method, authority, "/" + target, headers or {}, data)
        again = _repeatable(method, target, data)
        if data is not None and not isinstance(data, (bytes, bytearray)):
            data = self._counted(data, head)
        elif data is not None and len(data) <= 1024:  # one write: one packet for a small request
            head, data = head + data, None
        elif data is not None:
            data = (data,)
        while True:
            reused = self._ready(scheme, authority)
            self._answered = False
            try:
                if not reused:
                    self._open(scheme, authority)
                self._write(head)
                for chunk in data or ():
                    self._write(chunk)
                return _Response(self, method)
            except BaseException as e:
                self.close()
                if getattr(e, "errno", 0) == errno.EAGAIN:  # how MicroPython's recv times out
                    raise OSError(errno.ETIMEDOUT, "ETIMEDOUT")
                if not (reused and again and isinstance(e, OSError)) or self._answered:
                    raise
                again = False

    @staticmethod
    def _head(method, authority, target, headers, data):
        head = "%s %s HTTP/1.1\r\nHost: %s\r\n" % (method, target, authority)
        for name in headers:
            head += "%s: %s\r\n" % (name, headers[name])
        if data is None or isinstance(data, (bytes, bytearray)):
            head += "Content-Length: %d\r\n" % len(data or b"")
        elif "Content-Length" not in headers:
            raise ValueError("a streamed body needs a Content-Length header")
        return (head + "\r\n").encode()

    @staticmethod
    def _counted(chunks, head):
        # The chunks of a streamed body, checked against its Content-Length: a body longer
        # or shorter would be read as part of the next request.
        length = int(head.split(b"Content-Length: ")[1].split(b"\r")[0])
        for chunk in chunks:
            length -= len(chunk)
            yield chunk
        if length:
            raise ValueError("the body is not Content-Length long")

    def _left(self):
        # Seconds left until the request's deadline; past it, the error a socket gives.
        left = self._ms - elapsed_ms(self._start)
        if left <= 0:
            raise OSError(errno.ETIMEDOUT, "ETIMEDOUT")
        self._plain.settimeout(left / 1000)
        return left

    def _ready(self, scheme, authority):
        # Whether the open connection can carry a request there: an idle connection the
        # server closed (or wrote to) is readable, and is closed instead.
        if self._to == (scheme, authority):
            waiting = poll()
            # The plain socket: MicroPython's TLS one has no file descriptor, and polling it
            # sleeps a millisecond on the unix port. mbedtls reads no further than a record,
            # so what the server sent since (its close) is still there to see.
            waiting.register(self._plain, POLLIN)
            if not waiting.poll(0):
                return True
        self.close()
        return False

    def _open(self, scheme, authority):
        host, port = authority, 443 if scheme == "https" else 80
        if ":" in authority.rsplit("]", 1)[-1]:
            host, port = authority.rsplit(":", 1)
        host = host.strip("[]")
        where = socket.getaddrinfo(host, int(port), 0, socket.SOCK_STREAM)[0]
        self._sock = self._plain = socket.socket(where[0], where[1], where[2])
        self._left()
        self._plain.connect(where[-1])
        try:
            self._plain.setsockopt(6, 1, 1)  # TCP_NODELAY: no 40 ms wait for a delayed ACK between writes
        except OSError:
            pass
        if scheme == "https":
            context = self._context or self._make_context()
            self._left()
            verdict = None
            try:
                self._sock = context.wrap_socket(self._plain, server_hostname=host)
            except (OSError, ValueError) as e:
                verdict, detail = _verdict(e), str(e).strip()
                if verdict is None:
                    raise
            if verdict:  # raised here, outside the except: not chained to the TLS library's error
                if verdict == _NOT_YET and self._leaf and self._set_clock(authority):
                    return self._open(scheme, authority)
                raise ValueError("TLS: %s refused: %s (%s)" % (host, verdict, detail))
            if hasattr(self._sock, "settimeout"):  # CPython's: the plain socket was handed over
                self._plain = self._sock
        self._to = (scheme, authority)
        self.opened += 1

    def _make_context(self):
        context = tls.SSLContext(tls.PROTOCOL_TLS_CLIENT)
        if self._insecure:
            if hasattr(context, "check_hostname"):  # CPython's, checked before verify_mode
                context.check_hostname = False
            context.verify_mode = tls.CERT_NONE
        elif self._ca is None:
            raise ValueError("https needs Transport(ca=...)")
        else:
            context.verify_mode = tls.CERT_REQUIRED
            ca = _der(self._ca)
            if hasattr(tls, "MBEDTLS_VERSION"):  # MicroPython: positional, and a callback
                context.load_verify_locations(ca)
                context.verify_callback = self._seen
            else:
                context.load_verify_locations(cadata=ca)
        self._context = context
        return context

    def _seen(self, cert, depth):
        # MicroPython's verify callback: keeps the server's certificate while the clock is
        # not known, for _set_clock.
        if depth == 0 and time.gmtime()[0] < 2010:
            self._leaf = bytes(cert)
        return 0

    def _set_clock(self, authority):
        # A board's clock starts in 2000 after power-up, and MicroPython's TLS checks the
        # server certificate's dates against it. The certificate just refused only for that
        # is signed by our CA for this host; an answer from a server that shows the very
        # same certificate (and so holds its key) dates the RTC. Nothing secret is sent.
        # Returns whether the clock was set.
        leaf, self._leaf = self._leaf, None
        self.close()
        self._context.verify_mode = tls.CERT_OPTIONAL
        try:
            self._open("https", authority)
            shown = self._leaf
            self._write(("GET /v2/time HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % authority).encode())
            date = _Response(self, "GET").headers.get("date")
            if shown != leaf or not date:
                return False
            import machine
            machine.RTC().datetime(_rtc_fields(date))
            return True
        except (ImportError, AttributeError, ValueError):  # no RTC to set, or no date in the answer
            return False
        finally:
            self._context.verify_mode = tls.CERT_REQUIRED
            self.close()

    def _write(self, data):
        self._left()
        self._sock.sendall(data)

    def _recv(self, n):
        # What one read of the connection brings, waiting no longer than the deadline.
        self._left()
        data = self._sock.recv(n)
        self._answered = self._answered or bool(data)
        return data

    def _take(self, n):
        # Up to n bytes of the answer: what is buffered, else what one read brings.
        if not self._buf:
            return self._recv(n)
        data, self._buf = self._buf[:n], self._buf[n:]
        return data

    def _line(self, room):
        # The next line of the answer's head, without its CRLF; at most room bytes.
        while True:
            end = self._buf.find(b"\n")
            if end >= 0:
                line, self._buf = self._buf[:end], self._buf[end + 1 :]
                return line.rstrip(b"\r")
            if len(self._buf) >= room:
                raise ValueError("an answer's head over %d bytes" % _HEAD_MAX)
            more = self._recv(512)
            if not more:
                raise OSError(errno.ECONNRESET, "the server closed the connection")
            self._buf += more


def _repeatable(method, target, data):
    if data is not None and not isinstance(data, (bytes, bytearray)):
        return False  # a stream of chunks cannot be sent twice
    return method in ("GET", "HEAD", "PUT", "DELETE") or (
        method == "POST" and target.split("?")[0].rsplit("/", 1)[-1] in ("update", "updates", "values"))


class _Response:
    # An answer, read from the transport's connection: status_code and headers (names in
    # lower case) now, the body through raw.recv(n) as the client reads it. close() keeps
    # the connection open for the next request when the whole body was read and the server
    # keeps it too.
    def __init__(self, http, method):
        self._http = http
        self.raw = self
        line = http._line(_HEAD_MAX)
        room = _HEAD_MAX - len(line)
        parts = line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise ValueError("not an HTTP/1.x answer: %r" % line[:40])
        self.status_code = int(parts[1])
        self.headers = headers = {}
        while True:
            line = http._line(room)
            room -= len(line) + 2
            if not line:
                break
            colon = line.find(b":")
            if colon < 1:
                raise ValueError("not a header: %r" % line[:40])
            headers[line[:colon].decode().lower()] = line[colon + 1 :].strip().decode()
        length = headers.get("content-length")
        self._chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        if method == "HEAD" or self.status_code in (204, 304):  # no body, whatever the headers say
            length, self._chunked = "0", False
        self._left = 0 if self._chunked else int(length) if length else -1  # -1: until the server closes
        self._keep = parts[0] == b"HTTP/1.1" and headers.get("connection", "").lower() != "close" and self._left >= 0

    def recv(self, n):
        if self._left == 0 and self._chunked:
            self._chunked = self._next_chunk()
        if self._left == 0:
            return b""
        data = self._http._take(n if self._left < 0 else min(n, self._left))
        if not data:
            if self._left > 0 or self._chunked:
                raise OSError(errno.ECONNRESET, "the answer ended early")
            self._left = 0
        elif self._left > 0:
            self._left -= len(data)
        return data

    def _next_chunk(self):
        # Reads a chunk's size line (after the CRLF that ends the chunk before, if any);
        # False after the last chunk and its trailers.
        http = self._http
        self._left = int((http._line(256) or http._line(256)).split(b";")[0], 16)
        if self._left:
            return True
        while http._line(256):
            pass
        return False

    def close(self):
        if self._left or self._chunked or not self._keep:
            self._http.close()
