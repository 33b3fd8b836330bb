"""The application: one request in, one response out, independent of the HTTP layer."""

from .errors import ApiError
from .params import Params, parse_body
from .routing import Router, split_path
from .timefmt import now_ms

ACCEPTED = {"status": "accepted"}
LOG_SIZE = 100  # the device request log keeps this many entries


class Request:
    def __init__(self, method, path, query, headers, body, base_url, client_ip):
        self.method = method
        self.path = path  # without the query string
        self.query = query  # parsed, see params.parse_query
        self.headers = headers  # case-insensitive mapping
        self.body = body
        self.base_url = base_url  # scheme://host:port as the client addressed us
        self.client_ip = client_ip


class Response:
    def __init__(self, status, body=None, headers=(), content_type="application/json"):
        self.status = status
        self.body = body  # dict/list (JSON), str, or None for no body
        self.headers = list(headers)
        self.content_type = content_type
        # MicroPython's requests raises on a non-2xx answer that carries a Location.
        assert status < 300 or not any(name == "Location" for name, _ in self.headers)


def ok(body, headers=()):
    return Response(200, body, headers)


def created(body, location):
    return Response(201, body, [("Location", location)])


def accepted(location=None):
    return Response(202, dict(ACCEPTED), [("Location", location)] if location else [])


def no_content():
    return Response(204)


def text(value):
    return Response(200, str(value), content_type="text/plain")


class Context:
    """What a handler works with: the request, its fields, the database and the caller's key."""

    def __init__(self, request, conn, route, path_params):
        self.request = request
        self.conn = conn
        self.route = route
        self.path = path_params
        self.now = now_ms()
        self.key = None  # auth.Credential, set by the route's access rule
        self.device = None  # the device row the request is about, set by the access rule
        self.target = None  # the distribution, collection or job row, set by the access rule
        self._params = None

    @property
    def params(self):
        """Query and body fields merged (the body wins); parsed after the key was checked."""
        if self._params is None:
            body = parse_body(self.request.headers.get("Content-Type"), self.request.body)
            self._params = Params({**self.request.query, **body})
        return self._params

    def url(self, path):
        """The absolute URL of an API path such as '/devices/abc'."""
        return self.request.base_url + "/v2" + path

    def query(self, sql, args=()):
        return self.conn.execute(sql, args).fetchall()

    def query_one(self, sql, args=()):
        return self.conn.execute(sql, args).fetchone()

    def execute(self, sql, args=()):
        return self.conn.execute(sql, args)


class App:
    def __init__(self, db, routes):
        self.db = db
        self.router = Router(routes)

    def handle(self, request):
        """The response to a request; API errors become their JSON answers."""
        with self.db.transaction() as conn:
            conn.execute("SAVEPOINT handler")
            ctx = None
            try:
                ctx = self._context(request, conn)
                ctx.route.access(ctx)
                response = ctx.route.handler(ctx)
                conn.execute("RELEASE handler")
            except ApiError as error:
                conn.execute("ROLLBACK TO handler")
                conn.execute("RELEASE handler")
                response = Response(error.status, error.body(), error.headers)
            if ctx is not None and ctx.device is not None:
                log_device_request(ctx, response.status)
            return response

    def _context(self, request, conn):
        segments = resolve_serial(conn, split_path(request.path))
        route, path_params = self.router.resolve(request.method, segments)
        return Context(request, conn, route, path_params)


def resolve_serial(conn, segments):
    """/v2/devices/serial/{serial}/... addresses the same device as /v2/devices/{id}/...

    An unknown serial becomes an id no device has, so the key is checked before the 404.
    """
    if segments[:3] != ["v2", "devices", "serial"] or len(segments) < 4:
        return segments
    row = conn.execute("SELECT id FROM devices WHERE serial = ?", (segments[3],)).fetchone()
    device_id = row["id"] if row else "serial:" + segments[3]
    return ["v2", "devices", device_id] + segments[4:]


def log_device_request(ctx, status):
    """Append to the device's request log (newest 100 kept) and mark it active."""
    device_id = ctx.device["id"]
    path = ctx.request.path.rstrip("/")
    path = path[3:] if path.startswith("/v2/") else path
    ctx.execute(
        "INSERT INTO request_log (device_id, ts, status, method, path)"
        " SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM devices WHERE id = ?)",
        (device_id, ctx.now, status, ctx.request.method, path, device_id),
    )
    ctx.execute(
        "DELETE FROM request_log WHERE device_id = ? AND id NOT IN"
        " (SELECT id FROM request_log WHERE device_id = ? ORDER BY id DESC LIMIT ?)",
        (device_id, device_id, LOG_SIZE),
    )
    ctx.execute("UPDATE devices SET last_activity = ? WHERE id = ?", (ctx.now, device_id))
