"""The HTTP layer: http.server threads in, App.handle, bytes out.

Every answer, errors included, is JSON (or text) with Content-Length and X-M2X-VERSION.
HTTP/1.1 connections stay open; HTTP/1.0 ones close after the answer, as MicroPython's
requests reads the body until the server closes.
"""

import re
import socket
import ssl
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from . import __version__
from .app import App, Request, Response
from .errors import ApiError, BadRequest, PayloadTooLarge
from .params import parse_query
from .resources.keys import ensure_primary_master_key, primary_master_key
from .routes import ROUTES
from .storage import Database, to_json
from .timefmt import now_ms

MAX_BODY = 1024 * 1024
DRAIN_LIMIT = 16 * MAX_BODY  # an oversized body up to this is read so the 413 arrives cleanly
IDLE_TIMEOUT = 60  # seconds a kept-alive connection may sit idle (the default of make_server)
HOST_RE = re.compile(r"^[A-Za-z0-9.\-:\[\]]+$")
# ASCII digits only: str.isdigit() and int() also take "²" or "-5", which read() chokes on.
CONTENT_LENGTH_RE = re.compile(r"[0-9]{1,18}")
CHUNK_SIZE_RE = re.compile(rb"[0-9A-Fa-f]{1,16}")
DEFAULT_PORTS = {"http": 80, "https": 443}
VERSION_HEADER = "X-M2X-VERSION"
VERSION = "v2-m2x_server-" + __version__


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "m2x_server/" + __version__
    timeout = IDLE_TIMEOUT  # setup() takes the server's idle_timeout
    # Headers and body are two writes; with Nagle's algorithm a kept-alive client waits
    # ~40 ms for the delayed ACK between them.
    disable_nagle_algorithm = True

    def setup(self):
        self.timeout = self.server.idle_timeout  # a connection silent this long is closed
        super().setup()

    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def _dispatch(self):
        if self.request_version == "HTTP/0.9":
            self.send_error(400, "HTTP/0.9 is not supported")
            return
        try:
            body = self._read_body()
        except ApiError as error:
            self.close_connection = True  # the rest of the body may still be on the wire
            self._send(Response(error.status, error.body()))
            return
        self._send(self._answer(body))

    def _answer(self, body):
        url = urlsplit(self.path)
        request = Request(
            method="GET" if self.command == "HEAD" else self.command,  # HEAD: GET's answer, without its body
            path=url.path,
            query=parse_query(url.query),
            headers=self.headers,
            body=body,
            base_url=self._base_url(),
            client_ip=self.client_address[0],
        )
        try:
            return self.server.app.handle(request)
        except Exception:  # a bug must still get an answer, not a dropped connection
            traceback.print_exc(file=sys.stderr)
            return Response(500, {"message": "Internal server error"})

    def _base_url(self):
        """The scheme and host the client used, for the URLs in answers.

        MicroPython's requests 0.10 sends the Host header without the port: a Host without
        one means this server's port (unless it is the scheme's default).
        """
        host = self.headers.get("Host", "")
        if not HOST_RE.match(host):
            return "%s://%s" % (self.server.scheme, self.server.authority)
        port = self.server.server_address[1]
        if (host.endswith("]") or ":" not in host) and port != DEFAULT_PORTS[self.server.scheme]:
            host = "%s:%d" % (host, port)
        return "%s://%s" % (self.server.scheme, host)

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not CONTENT_LENGTH_RE.fullmatch(length.strip()):
            raise BadRequest("Invalid Content-Length: %r" % length)
        length = int(length)
        if length > MAX_BODY:
            self._drain(length)
            raise PayloadTooLarge("The request body is larger than %d bytes" % MAX_BODY)
        return self.rfile.read(length)

    def _drain(self, length):
        if length > DRAIN_LIMIT:
            return
        while length > 0:
            chunk = self.rfile.read(min(length, 65536))
            if not chunk:
                return
            length -= len(chunk)

    def _read_chunked(self):
        body = bytearray()
        while True:
            line = self.rfile.readline(1024).split(b";")[0].strip()
            if not CHUNK_SIZE_RE.fullmatch(line):
                raise BadRequest("Invalid chunked encoding")
            size = int(line, 16)
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return bytes(body)
            if len(body) + size > MAX_BODY:
                raise PayloadTooLarge("The request body is larger than %d bytes" % MAX_BODY)
            body += self.rfile.read(size)
            self.rfile.readline(1024)

    def _send(self, response):
        payload = _encode(response.body)
        self.send_response(response.status)
        if payload:
            self.send_header("Content-Type", response.content_type)
        if response.status != 304:  # a 304's Content-Length would have to be the 200's (the console's files)
            self.send_header("Content-Length", str(len(payload)))
        self.send_header(VERSION_HEADER, VERSION)
        for name, value in response.headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        elif self.request_version == "HTTP/1.0":  # it asked for keep-alive: say it is granted
            self.send_header("Connection", "keep-alive")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def send_error(self, code, message=None, explain=None):
        """http.server's own errors (bad request line, headers too long...) as JSON too."""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":
            self.request_version = "HTTP/1.0"  # else http.server writes no status line
        self._send(Response(code, {"message": message or self.responses.get(code, ("Error",))[0]}))

    def log_message(self, format, *args):
        if self.server.log_requests:
            super().log_message(format, *args)


def _encode(body):
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    return to_json(body).encode("utf-8")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, app, tls_context, log_requests, idle_timeout):
        self.app = app
        self.log_requests = log_requests
        self.idle_timeout = idle_timeout
        self.connections_accepted = 0
        self._connections = set()  # open ones: shutdown() ends them
        self._count_lock = threading.Lock()
        self.scheme = "https" if tls_context else "http"
        self.tls_context = tls_context
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, RequestHandler)
        if tls_context:
            self.socket = tls_context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)
        host, port = self.server_address[:2]
        self.authority = "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)

    def get_request(self):
        accepted = super().get_request()
        with self._count_lock:
            self.connections_accepted += 1
            self._connections.add(accepted[0])
        return accepted

    def shutdown_request(self, request):
        with self._count_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def end_connections(self):
        """End the connections still open (kept alive between requests), as the end of the
        process would: their handlers must not go on serving once the database is closed."""
        with self._count_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def finish_request(self, request, client_address):
        """Runs in the connection's thread, so a slow TLS handshake blocks no one else."""
        if self.tls_context:
            request.settimeout(self.idle_timeout)
            request.do_handshake()
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        """A client that went away or failed the TLS handshake is not worth a traceback."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, socket.timeout)):
            super().handle_error(request, client_address)


class Server:
    """An M2X server on a database file: `make_server(...)`, then serve_forever() or start().

    `url` has no trailing slash and no /v2; `master_key` is the account's primary master
    key as it is now; `created_master_key` tells whether this start created it;
    `connections_accepted` counts the TCP connections accepted so far. A connection that
    sends nothing for `idle_timeout` seconds (between kept-alive requests too) is closed.
    """

    def __init__(self, host="127.0.0.1", port=0, db_path="m2x.sqlite3", master_key=None,
                 tls_cert=None, tls_key=None, log_requests=False, idle_timeout=IDLE_TIMEOUT):
        idle_timeout = _check_idle_timeout(idle_timeout)
        self.db = Database(db_path)
        try:
            _, self.created_master_key = ensure_primary_master_key(self.db, master_key, now_ms())
            tls_context = _tls_context(tls_cert, tls_key) if tls_cert else None
            self._httpd = _HTTPServer((host, port), App(self.db, ROUTES), tls_context, log_requests,
                                      idle_timeout)
        except BaseException:
            self.db.close()
            raise
        self._thread = None
        self._serving = threading.Event()

    @property
    def url(self):
        return "%s://%s" % (self._httpd.scheme, self._httpd.authority)

    @property
    def port(self):
        return self._httpd.server_address[1]

    @property
    def idle_timeout(self):
        return self._httpd.idle_timeout

    @property
    def connections_accepted(self):
        with self._httpd._count_lock:
            return self._httpd.connections_accepted

    @property
    def master_key(self):
        with self.db.transaction() as conn:
            return primary_master_key(conn)

    def serve_forever(self, poll_interval=0.05):
        self._serving.set()
        self._httpd.serve_forever(poll_interval)

    def start(self):
        """Serve from a background thread; returns self."""
        self._serving.set()  # before the thread runs, so an early shutdown() still stops it
        self._thread = threading.Thread(target=self.serve_forever, name="m2x_server", daemon=True)
        self._thread.start()
        return self

    def shutdown(self):
        """Stop serve_forever (call from another thread) and release the port and database.

        Closing the database waits for the request holding it, so a write in progress is
        committed (or rolled back) whole.
        """
        if self._serving.is_set():
            self._httpd.shutdown()
            self._serving.clear()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._httpd.end_connections()
        self._httpd.server_close()
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.shutdown()


def _tls_context(cert, key):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def _check_idle_timeout(seconds):
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 < seconds < float("inf"):
        raise ValueError("idle_timeout must be a positive number of seconds, not %r" % (seconds,))
    return seconds


def make_server(host="127.0.0.1", port=0, db_path="m2x.sqlite3", master_key=None,
                tls_cert=None, tls_key=None, log_requests=False, idle_timeout=IDLE_TIMEOUT):
    """A Server bound to host:port (0 picks a free port), not serving yet."""
    return Server(host, port, db_path, master_key, tls_cert, tls_key, log_requests, idle_timeout)
