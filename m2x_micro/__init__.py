# m2x_micro: a client for the M2X API v2 that runs unchanged on MicroPython and CPython.
# One file, no relative imports: copy it to a board as m2x_micro.py.
# Read top to bottom: time and ISO 8601, errors, HTTP, client, resources.
import json
import time

__version__ = "0.1.0"

# --- Time and ISO 8601 ---------------------------------------------------------------
# Integer arithmetic only: ESP32 floats are single precision, wrong by minutes on a
# Unix timestamp. Internally every instant is an int of Unix milliseconds.
# Module globals are few on purpose: MicroPython looks up every builtin (isinstance, len)
# in them first, and a fuller table makes each such miss slower.

_TIME_KEYS = ("timestamp", "start", "end", "from", "modified_since", "unmodified_since", "expires_at")


def _days_from_civil(year, month, day):
    # Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    if month <= 2:
        year -= 1
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def _civil_from_days(days):
    days += 719468
    era = days // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    month = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (month <= 2), month, doy - (153 * mp + 2) // 5 + 1


def _epoch_offset():
    # Seconds to add to this interpreter's time.time() to get Unix seconds.
    return 946684800 if time.gmtime(0)[0] == 2000 else 0  # 2000-01-01 (ESP32 and friends)


def elapsed_ms(start):
    """ms since start on a monotonic clock (elapsed_ms(0) is a start): MicroPython's ticks,
    which wrap (hence ticks_diff), or CPython's monotonic clock. Deadlines use it."""
    try:
        return time.ticks_diff(time.ticks_ms(), start)
    except AttributeError:
        return time.monotonic_ns() // 1000000 - start


def _local_now_ms():
    # Unix milliseconds by this machine's clock.
    try:
        ms = time.time_ns() // 1000000
    except AttributeError:
        ms = int(time.time()) * 1000
    return ms + _epoch_offset() * 1000


def _ms_from_fields(year, month, day, hour, minute, second, ms, offset_minutes=0):
    days = _days_from_civil(year, month, day)
    if _civil_from_days(days) != (year, month, day) or hour > 23 or minute > 59 or second > 59 or min(
            hour, minute, second) < 0:
        raise ValueError("no such date or time")
    return ((days * 24 + hour) * 60 + minute - offset_minutes) * 60000 + second * 1000 + ms


def _digits(raw, start, end):
    # The number written in raw[start:end], bytes of ASCII digits; no slice is made.
    if end > len(raw):
        raise ValueError
    number = 0
    for i in range(start, end):
        digit = raw[i] - 48
        if not 0 <= digit <= 9:
            raise ValueError
        number = number * 10 + digit
    return number


def parse_iso8601(text):
    """'2015-04-21T03:36:42.347Z', any fraction, 'Z' or a +HH:MM offset -> Unix ms."""
    if not isinstance(text, str):
        raise TypeError("timestamp string expected")
    raw = text.encode()
    try:
        for at, char in ((4, 45), (7, 45), (10, 84), (13, 58), (16, 58)):  # - - T : :
            if raw[at] != char:
                raise ValueError
        end = 19
        ms = 0
        if raw[19] == 46:  # '.', then at least one digit; milliseconds are the first three
            end = 20
            while end < len(raw) and 48 <= raw[end] <= 57:
                end += 1
            if end == 20:
                raise ValueError
            for at in range(20, 23):
                ms = ms * 10 + (raw[at] - 48 if at < end else 0)
        offset = 0
        if raw[end] != 90 or len(raw) != end + 1:  # not 'Z': +HH:MM or -HH:MM
            if len(raw) != end + 6 or raw[end] not in b"+-" or raw[end + 3] != 58:
                raise ValueError
            hours, minutes = _digits(raw, end + 1, end + 3), _digits(raw, end + 4, end + 6)
            if hours > 23 or minutes > 59:
                raise ValueError
            offset = (hours * 60 + minutes) * (1 if raw[end] == 43 else -1)
        return _ms_from_fields(_digits(raw, 0, 4), _digits(raw, 5, 7), _digits(raw, 8, 10), _digits(raw, 11, 13),
                               _digits(raw, 14, 16), _digits(raw, 17, 19), ms, offset)
    except (ValueError, IndexError):
        raise ValueError("bad timestamp: %r" % text)


def format_iso8601(unix_ms):
    """Unix milliseconds -> '2015-04-21T03:36:42.347Z'."""
    seconds, ms = divmod(unix_ms, 1000)
    days, seconds = divmod(seconds, 86400)
    year, month, day = _civil_from_days(days)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
        year, month, day, seconds // 3600, seconds // 60 % 60, seconds % 60, ms)


def to_unix_ms(ts):
    """Unix ms of an ISO string, seconds on this interpreter's epoch (int or float),
    a time.gmtime() tuple, or (CPython) a datetime: naive means UTC."""
    if isinstance(ts, str):
        return parse_iso8601(ts)
    if isinstance(ts, bool):
        raise TypeError("bad timestamp: %r" % ts)
    if isinstance(ts, int):
        return (ts + _epoch_offset()) * 1000
    if isinstance(ts, float):
        if ts - ts != 0:
            raise ValueError("timestamp must be finite")
        whole = int(ts)  # the fraction alone goes through float: a second's worth at most
        return (whole + _epoch_offset()) * 1000 + round((ts - whole) * 1000)
    if isinstance(ts, tuple) and len(ts) >= 6:
        # gmtime() counts on this interpreter's epoch, but its fields are a calendar date.
        return _ms_from_fields(ts[0], ts[1], ts[2], ts[3], ts[4], ts[5], 0)
    if hasattr(ts, "utcoffset") and hasattr(ts, "microsecond"):
        offset = ts.utcoffset()
        minutes = (offset.days * 86400 + offset.seconds) // 60 if offset else 0
        return _ms_from_fields(ts.year, ts.month, ts.day, ts.hour, ts.minute, ts.second,
                               ts.microsecond // 1000, minutes)
    raise TypeError("bad timestamp: %r" % (ts,))


def iso8601(ts):
    """Any accepted timestamp -> the API's form, UTC with milliseconds and Z. A string
    already in that form is checked and given back as it is: no copy."""
    unix_ms = to_unix_ms(ts)
    if isinstance(ts, str) and len(ts) == 24 and ts[19] == "." and ts[23] == "Z":
        return ts
    return format_iso8601(unix_ms)


# --- Errors ------------------------------------------------------------------------


class M2XError(Exception):
    """Base of every error this client raises."""


class HTTPError(M2XError):
    """The server answered with a status outside 2xx."""

    def __init__(self, status, message, errors=None, retry_after=None):
        super().__init__("HTTP %d: %s" % (status, message))
        self.status = status
        self.message = message
        self.errors = errors or {}
        self.retry_after = retry_after  # seconds, on 429/503 when the server says so


class NetworkError(M2XError):
    """The request did not complete: no route, refused, timed out, TLS failure."""

    def __init__(self, message, errno=None):
        super().__init__(message)
        self.errno = errno


# --- Payload helpers ---------------------------------------------------------------

def _quote(text):
    unreserved = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    return "".join([chr(b) if b in unreserved else "%%%02X" % b for b in str(text).encode()])


def _check_id(value, what="id"):
    if not isinstance(value, str):
        raise TypeError("%s must be a str" % what)
    if value in ("", ".", ".."):  # "." and ".." would name another path once normalised
        raise ValueError("%s must not be %r" % (what, value))
    return value


def _check_value(value):
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("value must be a number or a str, not %r" % (value,))
    _check_finite(value)
    return value


def _check_finite(data):
    if isinstance(data, float) and data - data != 0:
        raise ValueError("not a finite number: %r" % data)
    if isinstance(data, dict):
        for key in data:
            _check_finite(data[key])
    elif isinstance(data, (list, tuple)):
        for item in data:
            _check_finite(item)


def _stamped(params):
    # A copy of the API parameters params with their timestamps in API form (unset ones
    # dropped), names and numbers checked, and a nested location likewise.
    out = {}
    for name in params:
        value = params[name]
        if name in _TIME_KEYS:
            if value is None:
                continue
            value = iso8601(value)
        elif name == "value":  # a value to write: never unset
            _check_value(value)
        elif value is None:  # unset, or null in a body: not for us to check
            pass
        elif name in ("name", "serial"):
            _check_id(value, name)
        elif name in ("latitude", "longitude", "elevation"):
            _check_value(value)
        elif name == "location" and isinstance(value, dict):
            value = _stamped(value)
        out[name] = value
    return out


def _query(params):
    parts = []
    for name in params:
        value = params[name]
        if value is None:  # unset, as requests leaves it out
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            value = ",".join(map(str, value))
        parts.append(_quote(name) + "=" + _quote(value))
    return "?" + "&".join(parts) if parts else ""


def _header(headers, name):
    # Response headers keep the server's casing on MicroPython.
    for key in headers or ():
        if key.lower() == name:
            return headers[key]
    return None


# --- Client and resources ------------------------------------------------------------
# Most API methods are one line of a route table, as in m2x-python's path templates:
#   name  VERB  path  result  [argument ...]
# - the `{name}`s of the path, then the arguments, are the method's parameters in that
#   order, given by position or by name; a path part is an id (checked and quoted);
# - an argument is a parameter of the API: `?` marks an optional one, `start:from` one that
#   the method calls start and the API calls from, `timestamp+` the stamp of a write,
#   now by timestamp() when not given, and `*` one dict that is all of them (or
#   the keyword arguments); with the keyword arguments they make the query of a GET or the
#   JSON body of any other verb;
# - result: `-` the API answer as it is, `int`, a handle class, or `[Class]` a list
#   of handles; `=` the answer as it is, and the parameters are free JSON (metadata,
#   a command's response), sent as given rather than checked as API parameters.
# A table costs a fraction of the RAM of one function per method.


def _route_line(tables, name):
    # The route called name in tables (route table strings), split into its words.
    for routes in tables:
        start = routes.find("\n" + name + " ")
        if start >= 0:
            end = routes.find("\n", start + 1)
            return routes[start + 1 : end if end > 0 else len(routes)].split()
    return None


class _Routed:
    ROUTES = ()  # route tables: strings of one route a line

    def __getattr__(self, name):
        route = _route_line(self.ROUTES, name) if name[0] != "_" else None
        if route is None:
            raise AttributeError(name)
        return lambda *args, **params: self._route(route, list(args), params)

    def _route(self, route, args, params):
        name, verb, path, result = route[:4]

        def take(parameter):
            # The next positional argument, else the keyword argument of that name.
            if parameter in params:
                if args:
                    raise TypeError(name + "() got " + parameter + " twice")
                return params.pop(parameter)
            if not args:
                raise TypeError(name + "() is missing " + parameter)
            return args.pop(0)

        while "{" in path:
            start, end = path.find("{"), path.find("}")
            part = path[start + 1 : end]
            path = path[:start] + _quote(_check_id(take(part), part)) + path[end + 1 :]
        for arg in route[4:]:
            if arg == "*":
                if args and params:
                    raise TypeError(name + "() takes a dict or keywords, not both")
                params = args.pop(0) if args else params
                if not isinstance(params, dict):
                    raise TypeError(name + "() takes a dict")
                continue
            names = arg.rstrip("?+").split(":")  # the method's name, the API's name
            if args or names[0] in params or arg[-1] not in "?+":
                params[names[-1]] = take(names[0])
            if arg[-1] == "+" and params.get(names[-1]) is None:  # a write's stamp: ours, never the server's
                params[names[-1]] = self.client.timestamp()
        if args:
            raise TypeError(name + "() takes fewer arguments")
        if result != "=":
            params = _stamped(params)
        path = self.path + path
        if verb == "GET":
            answer = self.client.request(verb, path, query=params)
        else:
            answer = self.client.request(verb, path, body=params or None)
        return self.client._result(result, answer, path)


class M2XClient(_Routed):
    ROUTES = ("""
status GET /status -
time GET /time -
time_seconds GET /time/seconds int
time_millis GET /time/millis int
time_iso8601 GET /time/iso8601 -
devices GET /devices [Device]
create_device POST /devices Device
device GET /devices/{id} Device
device_catalog GET /devices/catalog [Device]
distributions GET /distributions [Distribution]
create_distribution POST /distributions Distribution
distribution GET /distributions/{id} Distribution
collections GET /collections [Collection]
create_collection POST /collections Collection
collection GET /collections/{id} Collection
keys GET /keys [Key]
create_key POST /keys Key
key GET /keys/{key} Key
commands GET /commands [Command]
command GET /commands/{id} Command
job GET /jobs/{id} Job""",)

    path = ""

    ENDPOINT = "https://api-m2x.att.com"

    def __init__(self, key, endpoint=ENDPOINT, timeout=10, transport=None, max_body=16384):
        if key is not None:
            _check_id(key, "key")
            for char in key:  # a header value: no line breaks (and not echoed)
                if not " " < char < "\x7f":
                    raise ValueError("key must be printable ASCII without spaces")
        if endpoint is None:
            endpoint = self.ENDPOINT
        if not isinstance(endpoint, str) or endpoint.split("://")[0] not in ("http", "https"):
            raise ValueError("endpoint must start with http:// or https://")
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not timeout > 0 or timeout - timeout != 0:
            raise ValueError("timeout must be a positive number of seconds")
        if not isinstance(max_body, int) or isinstance(max_body, bool) or max_body < 1:
            raise ValueError("max_body must be a positive number of bytes")
        self.client = self
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout
        self.max_body = max_body  # bytes of a 2xx answer read at most
        self.clock_offset = 0  # server minus local clock, in ms (see sync_time)
        self._last_stamp = 0  # the last stamp_ms() made, Unix ms: stamps only go up
        self._synced = False
        self.early_correction = None  # set by a sync_time() while the clock was not known
        self.pagination = {}  # total, pages, limit, current_page of the last list read
        self._key = key
        self._http = transport or self._transport()
        impl = __import__("sys").implementation
        self._headers = {
            "Content-Type": "application/json",
            "Accept-Encoding": "identity",  # CPython's requests asks for gzip, then gives it raw
            "User-Agent": "m2x-micro/%s %s/%d.%d.%d" % ((__version__, impl.name) + tuple(impl.version[:3])),
        }
        if key:
            self._headers["X-M2X-KEY"] = key

    def __repr__(self):
        return "<M2XClient %s>" % self.endpoint

    @staticmethod
    def _transport():
        # The board's urequests or requests; on CPython the shim, which sends streamed
        # bodies as the board does (CPython's requests sends them chunked beside a length).
        try:
            import urequests
            return urequests
        except ImportError:
            import requests
            if hasattr(requests, "Session"):  # CPython's
                from cpython_shim import urequests as requests
            return requests

    # HTTP: one request, bounded in time and memory, the response closed in finally,
    # failures as our own errors.
    def request(self, method, path, query=None, body=None, location_as=None, data=None, length=None):
        """The decoded answer. body: a dict sent as JSON; or data, an iterable of bytes
        chunks streamed with Content-Length: length. location_as: the answer (a dict, {}
        when empty) gets under that name the last part of the Location header, the id of
        what the request made."""
        url = self.endpoint + "/v2" + path + _query(query or {})
        headers = self._headers
        start = elapsed_ms(0)  # the start of the whole request: its timeout is for all of it
        if body is not None:
            data = self._json(body)
        elif data is not None:
            headers = dict(headers)
            headers["Content-Length"] = str(length)
            data = self._paced(data, start)
        try:
            resp = self._http.request(method, url, data=data, headers=headers, timeout=self._left(start), stream=True)
        except (OSError, ValueError, NotImplementedError, MemoryError) as e:
            # NotImplementedError: requests 0.10 on an error answer that has a Location header
            raise self._network_error(method, path, e)
        try:
            self._left(start)
            status = resp.status_code
            headers = getattr(resp, "headers", None)
            content = self._read(resp.raw, status, headers, start)
        except (OSError, ValueError, MemoryError) as e:
            if self.timeout * 1000 <= elapsed_ms(start):  # a read cut by the socket's timeout
                import errno
                e = OSError(errno.ETIMEDOUT, "ETIMEDOUT")
            raise self._network_error(method, path, e)
        finally:
            resp.close()
        result = self._decode(status, content, headers)
        if location_as:
            result = result or {}
            location = _header(headers, "location")
            if location:
                result[location_as] = location.rsplit("/", 1)[-1]
        return result

    def _left(self, start):
        # Seconds left of the request's timeout; past it, the error a socket would raise.
        left = self.timeout - elapsed_ms(start) / 1000
        if left <= 0:
            import errno
            raise OSError(errno.ETIMEDOUT, "ETIMEDOUT")
        return left

    def _paced(self, chunks, start):
        # The caller's chunks, each sent only while the request has time left.
        for chunk in chunks:
            self._left(start)
            yield chunk

    def _read(self, raw, status, headers, start):
        # The body as a bytearray: a 2xx one up to max_body (else an M2XError), an error
        # one only as far as its message needs. Read in small pieces, each only while the
        # request has time left, so a server dripping its answer cannot hold us.
        ok = 200 <= status < 300
        cap = self.max_body if ok else 2048
        size = _header(headers, "content-length")
        size = 0 if status in (204, 304) else int(size) if size and size.strip().isdigit() else -1
        if ok and size > cap:
            raise M2XError("HTTP %d: an answer over max_body=%d bytes" % (status, cap))
        body = bytearray(min(size, cap) if size >= 0 else 0)  # one allocation when the size is known
        got = 0
        # What has arrived, not a full buffer: a MicroPython socket's read() waits for all it
        # was asked for (requests 0.10's raw is the socket); read1 is CPython's. Other raws
        # (requests 1.x, TLS) are read in small pieces.
        read = getattr(raw, "recv", None) or getattr(raw, "read1", None)
        piece = 512 if read else 64
        read = read or raw.read
        end = min(size, cap) if size >= 0 else cap  # never past the answer: the next may follow
        while got < end:
            left = self._left(start)
            if hasattr(raw, "settimeout"):  # a silent server: no read waits past the deadline
                raw.settimeout(left)
            chunk = read(min(piece, end - got))
            if not chunk:
                if got < size:
                    raise ValueError("the answer ended after %d of %d bytes" % (got, size))
                break
            body[got : got + len(chunk)] = chunk
            got += len(chunk)
        if ok and got == cap and size < 0 and read(1):
            raise M2XError("HTTP %d: an answer over max_body=%d bytes" % (status, cap))
        return body

    @staticmethod
    def _json(body):
        # Compact JSON as bytes. NaN and infinities are not JSON, yet json.dumps writes them
        # (nan, inf here; NaN, Infinity on CPython): a text that may hold one is searched.
        text = json.dumps(body, separators=(",", ":"))
        for word in ("nan", "inf", "NaN", "Infinity"):
            if word in text:
                _check_finite(body)
                break
        return text.encode()

    def _decode(self, status, content, headers):
        if status == 204 or (not content and 200 <= status < 300):
            return None
        if 200 <= status < 300 and "json" not in (_header(headers, "content-type") or "json"):
            return self._text(content)
        try:
            body = json.loads(content)  # from the bytes read: no text copy
        except ValueError:
            body = None
        except MemoryError:
            if 200 <= status < 300:
                raise M2XError("HTTP %d with an answer too large for the heap" % status)
            body = None
        if 200 <= status < 300:
            if body is None:
                raise M2XError("HTTP %d with a body that is not JSON" % status)
            return body
        if not isinstance(body, dict):
            body = {"message": self._text(content[:80])}
        retry = _header(headers, "retry-after")
        raise HTTPError(status, self._redact(str(body.get("message") or body.get("error") or "")),
                        body.get("errors"), int(retry) if retry and retry.isdigit() else None)

    @staticmethod
    def _text(content):
        try:
            return bytes(content).decode()
        except ValueError:  # not UTF-8: some proxy's page
            return "(a body that is not UTF-8)"

    def _network_error(self, method, path, exc):
        text = "%s %s failed: %r" % (method, path, exc)
        if "/keys/" in path:  # a key in the path is a secret too, also where exc repeats the URL
            text = text.replace(path.split("/keys/")[1].split("/")[0], "...")
        return NetworkError(self._redact(text), self._errno(exc))

    @staticmethod
    def _errno(exc):
        # The errno behind a transport error. MicroPython raises OSError(errno); CPython's
        # requests wraps the socket's error (followed down the chain), or times out without one.
        while exc is not None:
            if isinstance(exc, OSError) and exc.args and isinstance(exc.args[0], int):
                return exc.args[0]
            if "Timeout" in type(exc).__name__:
                import errno
                return errno.ETIMEDOUT
            exc = getattr(exc, "__cause__", None) or getattr(exc, "__context__", None)
        return None

    def _redact(self, text):
        return text.replace(self._key, "<key>") if self._key else text

    def _result(self, kind, answer, path):
        # A route's answer as its result kind says (see the route table's comment).
        if kind in ("-", "=") or answer is None:
            return answer
        if kind == "int":
            return int(answer)
        cls = globals()[kind.strip("[]")]
        if kind[0] != "[":
            return cls(self, answer, cls.BASE or path[: path.rfind("/")])
        self.pagination = {}
        for name in ("total", "pages", "limit", "current_page"):
            if name in answer:
                self.pagination[name] = answer[name]
        return [cls(self, item, cls.BASE or path) for item in answer[cls.ITEMS]]

    def iterate(self, list_method, **params):
        """Yield every item of a paginated list, one page in memory at a time:
        for device in client.iterate(client.devices, limit=20): ..."""
        page = params.pop("page", 1)
        while True:
            items = list_method(page=page, **params)
            pages = self.pagination.get("pages", page)  # before the caller's loop lists anything else
            for item in items:
                yield item
            if not items or page >= pages:
                return
            page += 1

    # Clock: stamp readings in server time on boards whose clock is unset.
    def sync_time(self, set_rtc=False):
        """Read /v2/time once; from then on now_ms() and timestamp() are in server time.
        With set_rtc=True also set machine.RTC where the board has one.
        Returns the correction: server time minus this machine's clock, in ms."""
        known = self.clock_known()
        sent, start = _local_now_ms(), elapsed_ms(0)
        # The server's time when we asked, by the monotonic clock: the local clock may be
        # stepped meanwhile (the TLS transport sets it from the server's certificate).
        asked = self.time()["millis"] - elapsed_ms(start) // 2
        correction = self.clock_offset = asked + elapsed_ms(start) - _local_now_ms()
        if not known:  # what dates the stamps this boot's clock made before (see outbox)
            self.early_correction = asked - sent
        self._synced = True
        if set_rtc:
            self._set_rtc()
        return correction

    def clock_known(self):
        """Whether stamps are real time: after sync_time(), or on a clock past 2010 (a
        board's clock starts at its epoch, 2000 or 1970, after power-up)."""
        return self._synced or _local_now_ms() >= 1262304000000

    def _set_rtc(self):
        try:
            import machine
            rtc = machine.RTC()
        except (ImportError, AttributeError):
            return
        now = self.now_ms()
        days = now // 86400000
        year, month, day = _civil_from_days(days)
        seconds = now // 1000 % 86400
        # The RTC keeps calendar fields; time.time() then counts on the port's own epoch.
        rtc.datetime((year, month, day, (days + 3) % 7, seconds // 3600, seconds // 60 % 60, seconds % 60, 0))
        self.clock_offset = now - _local_now_ms()

    def now_ms(self):
        """Unix milliseconds now, corrected by sync_time()."""
        return _local_now_ms() + self.clock_offset

    def stamp_ms(self):
        """Unix ms for a reading taken now: in server time after sync_time(), and later
        than the stamp made before, since the server keeps one value per stream and
        timestamp (two readings in one millisecond must not share one)."""
        self._last_stamp = max(self.now_ms(), self._last_stamp + 1)
        return self._last_stamp

    def timestamp(self, ts=None):
        """The API's ISO 8601 form of ts, or of stamp_ms() without ts: the stamp of every
        value this client writes without one. A clock that is not known is synced first,
        so no reading goes out with a stamp of the year 2000."""
        if ts is not None:
            return iso8601(ts)
        if not self.clock_known():
            self.sync_time()
        return format_iso8601(self.stamp_ms())

    def _stamp_values(self, values):
        # [{"value": v, "timestamp"?: ts}, ...] in API form. The caller's list is left as it
        # is; an item already in API form goes as it is, so a large batch is not copied
        # (copies interleaved with garbage would fragment a board's heap). A missing
        # timestamp gets now (in server time after sync_time()).
        if not isinstance(values, (list, tuple)):
            raise TypeError("values must be a list of dicts")
        out = [None] * len(values)  # allocated before the garbage below
        for i in range(len(values)):
            item = values[i]
            if not isinstance(item, dict) or "value" not in item:
                raise TypeError("each value must be a dict with a 'value'")
            stamp = item.get("timestamp")
            stamp = self.timestamp() if stamp is None else iso8601(stamp)
            _check_value(item["value"])
            if len(item) != 2 or item.get("timestamp") is not stamp:
                item = {"timestamp": stamp, "value": item["value"]}
            out[i] = item
        return out

    def devices_search(self, **params):
        # Structured filters travel in a JSON body, the rest as query parameters.
        body = {}
        for name in ("streams", "location", "metadata"):
            if isinstance(params.get(name), dict):
                body[name] = params.pop(name)
        found = self.request("GET", "/devices/search", query=_stamped(params), body=body or None)
        return self._result("[Device]", found, "/devices")

    def device_tags(self, **params):
        return self.request("GET", "/devices/tags", query=_stamped(params))["tags"]

    def send_command(self, **params):
        """Returns a Command whose id comes from the answer's Location header."""
        return Command(self, self.request("POST", "/commands", body=params, location_as="id"))


class Handle(_Routed):
    """The client, the resource's path and the server's JSON as a plain dict.
    handle["name"] and handle.name read the JSON; route names come first."""

    BASE = ""
    ID = "id"
    ITEMS = ""
    data = {}  # read only: for __getattr__ before __init__ (copy.copy); each handle has its own

    def __init__(self, client, data, base=None):
        self.client = client
        self.data = data
        self.path = (base or self.BASE) + "/" + _quote(data.get(self.ID, ""))

    def __getattr__(self, name):
        try:
            return _Routed.__getattr__(self, name)
        except AttributeError:
            pass
        try:
            return self.data[name]
        except KeyError:
            raise AttributeError(name)

    def __getitem__(self, name):
        return self.data[name]

    def get(self, name, default=None):
        return self.data.get(name, default)

    def __repr__(self):
        return "<%s %s>" % (type(self).__name__, self.path)


class Resource(Handle):
    def remove(self):
        return self.client.request("DELETE", self.path)

    def update(self, **attrs):
        """PUT the named fields; the handle's data follows. Returns None (204)."""
        answer = self.client.request("PUT", self.path, body=_stamped(attrs))
        self.data.update(attrs)
        return answer


_METADATA_ROUTES = """
read_metadata GET /metadata -
read_metadata_field GET /metadata/{field} -
update_metadata PUT /metadata = *
update_metadata_field PUT /metadata/{field} = value"""


class Device(Resource):
    BASE = "/devices"
    ITEMS = "devices"
    ROUTES = (_METADATA_ROUTES, """
streams GET /streams [Stream]
stream GET /streams/{name} Stream
location GET /location -
update_location PUT /location - timestamp+
location_history GET /location/waypoints -
delete_location_history DELETE /location/waypoints - start:from?
log GET /log -
values GET /values -
values_search POST /values/search -
commands GET /commands -
command GET /commands/{id} -
process_command POST /commands/{id}/process =
reject_command POST /commands/{id}/reject =""")

    def create_stream(self, name, **params):
        """PUT the stream: 201 gives the new stream; 204 (it existed) gives nothing, so
        the handle keeps what we sent."""
        data = self.client.request("PUT", self.path + "/streams/" + _quote(_check_id(name, "name")), body=params)
        if data is None:
            data = dict(params)
            data["name"] = name
        return Stream(self.client, data, self.path + "/streams")

    update_stream = create_stream

    def keys(self):
        return self.client.keys(device=self.data["id"])

    def create_key(self, **params):
        params["device"] = self.data["id"]
        return self.client.create_key(**params)

    def post_update(self, **params):
        """One value per stream: post_update(values={"temp": 21.5}, timestamp=...)."""
        if params.get("timestamp") is None:
            params["timestamp"] = self.client.timestamp()
        params = _stamped(params)
        values = params.get("values")
        if not isinstance(values, dict):
            raise TypeError("values must be a dict of stream name to value")
        for name in values:
            _check_value(values[name])
        return self.client.request("POST", self.path + "/update", body=params)

    def post_updates(self, **params):
        values = params.get("values")
        if not isinstance(values, dict):
            raise TypeError("values must be a dict of stream name to a list of values")
        params = _stamped(params)
        params["values"] = stamped = {}
        for name in values:
            stamped[name] = self.client._stamp_values(values[name])
        return self.client.request("POST", self.path + "/updates", body=params)

    def values_export(self, **params):
        """The API answer with, under "job", the id of the export job to poll."""
        return self.client.request("GET", self.path + "/values/export.csv", query=_stamped(params), location_as="job")


class Stream(Resource):
    ID = "name"
    ITEMS = "streams"
    ROUTES = ("""
values GET /values -
sampling GET /sampling - interval
stats GET /stats -
add_value PUT /value - value timestamp+
update_value PUT /value - value timestamp+
delete_values DELETE /values - start:from stop:end""",)

    def post_values(self, values):
        return self.client.request("POST", self.path + "/values", body={"values": self.client._stamp_values(values)})

    def update(self, **attrs):
        """PUT the named fields; returns the Stream."""
        Resource.update(self, **attrs)
        return self


class Distribution(Resource):
    BASE = "/distributions"
    ITEMS = "distributions"
    ROUTES = (_METADATA_ROUTES, """
devices GET /devices [Device]
add_device POST /devices Device serial""")


class Collection(Resource):
    BASE = "/collections"
    ITEMS = "collections"
    ROUTES = (_METADATA_ROUTES, """
devices GET /devices [Device]
add_device PUT /devices/{device_id} -
remove_device DELETE /devices/{device_id} -""")


class Key(Resource):
    BASE = "/keys"
    ID = "key"
    ITEMS = "keys"

    def __repr__(self):
        return "<Key %s>" % self.data.get("name")  # not the key: that is a secret

    def regenerate(self):
        """The key gets a new value and the old one stops working. Returns self."""
        self.data = self.client.request("POST", self.path + "/regenerate")
        self.path = self.BASE + "/" + _quote(self.data["key"])
        return self


class Command(Handle):
    BASE = "/commands"
    ITEMS = "commands"


class Job(Handle):
    BASE = "/jobs"
    ITEMS = "jobs"
