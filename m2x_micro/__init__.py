# m2x_micro: a client for the M2X API v2 that runs unchanged on MicroPython and CPython.
# One file, no relative imports: copy it to a board as m2x_micro.py.
# Read top to bottom: time and ISO 8601, errors, HTTP, client, resources.
import json
import sys
import time

__version__ = "0.1.0"

# --- Time and ISO 8601 ---------------------------------------------------------------
# Integer arithmetic only: ESP32 floats are single precision, wrong by minutes on a
# Unix timestamp. Internally every instant is an int of Unix milliseconds.

_EPOCH_2000 = 946684800  # Unix seconds at 2000-01-01, the epoch of ESP32 and friends
_TIME_KEYS = ("timestamp", "start", "end", "from", "modified_since", "unmodified_since")


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
    return _EPOCH_2000 if time.gmtime(0)[0] == 2000 else 0


def _local_now_ms():
    # Unix milliseconds by this machine's clock.
    try:
        ms = time.time_ns() // 1000000
    except AttributeError:
        ms = int(time.time()) * 1000
    return ms + _epoch_offset() * 1000


def _ms_from_fields(year, month, day, hour, minute, second, ms, offset_minutes=0):
    if _civil_from_days(_days_from_civil(year, month, day)) != (year, month, day) or not (
        0 <= hour < 24 and 0 <= minute < 60 and 0 <= second < 60
    ):
        raise ValueError("no such date or time")
    seconds = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    return (seconds - offset_minutes * 60) * 1000 + ms


def _digits(text, start, end):
    part = text[start:end]
    if len(part) != end - start or not part.isdigit():
        raise ValueError("bad timestamp: %r" % text)
    return int(part)


def parse_iso8601(text):
    """'2015-04-21T03:36:42.347Z', any fraction, 'Z' or a +HH:MM offset -> Unix ms."""
    if not isinstance(text, str):
        raise TypeError("timestamp string expected")
    if text[4:5] != "-" or text[7:8] != "-" or text[10:11] != "T" or text[13:14] != ":" or text[16:17] != ":":
        raise ValueError("bad timestamp: %r" % text)
    ms = 0
    end = 19
    if text[19:20] == ".":
        end = 20
        while text[end : end + 1].isdigit():
            end += 1
        ms = _digits((text[20:end] + "00")[:3], 0, 3) if end > 20 else -1
        if ms < 0:
            raise ValueError("bad timestamp: %r" % text)
    zone = text[end:]
    offset = 0
    if zone != "Z":
        if len(zone) != 6 or zone[0] not in "+-" or zone[3] != ":":
            raise ValueError("bad timestamp: %r" % text)
        offset = _digits(zone, 1, 3) * 60 + _digits(zone, 4, 6)
        if zone[0] == "-":
            offset = -offset
    fields = [_digits(text, a, a + n) for a, n in ((0, 4), (5, 2), (8, 2), (11, 2), (14, 2), (17, 2))]
    try:
        return _ms_from_fields(*fields, ms=ms, offset_minutes=offset)
    except ValueError:
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
        whole = int(ts)
        return (whole + _epoch_offset()) * 1000 + int((ts - whole) * 1000)
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
    """Any accepted timestamp -> the API's form, UTC with milliseconds and Z."""
    return format_iso8601(to_unix_ms(ts))


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

_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"


def _quote(text):
    return "".join([chr(b) if b in _UNRESERVED else "%%%02X" % b for b in str(text).encode()])


def _check_id(value, what="id"):
    if not isinstance(value, str):
        raise TypeError("%s must be a str" % what)
    if not value:
        raise ValueError("%s must not be empty" % what)
    return value


def _check_value(value):
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("value must be a number or a str, not %r" % (value,))
    if value - value != 0:
        raise ValueError("value must be finite, not %r" % (value,))
    return value


def _stamped(params):
    # A copy of params with timestamps in API form and unset ones dropped.
    out = {}
    for name in params:
        value = params[name]
        if name in _TIME_KEYS:
            if value is None:
                continue
            value = iso8601(value)
        if name == "name":
            _check_id(value, "name")
        out[name] = value
    return out


def _query(params):
    parts = []
    for name in params:
        value = params[name]
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            value = ",".join([str(v) for v in value])
        parts.append(_quote(name) + "=" + _quote(value))
    return "?" + "&".join(parts) if parts else ""


def _header(headers, name):
    # Response headers keep the server's casing on MicroPython.
    for key in headers or ():
        if key.lower() == name:
            return headers[key]
    return None


def _transport():
    try:
        import urequests
        return urequests
    except ImportError:
        import requests
        return requests


# --- Client ------------------------------------------------------------------------


class M2XClient:
    def __init__(self, key, endpoint="https://api-m2x.att.com", timeout=10, transport=None):
        if key is not None:
            _check_id(key, "key")
        if not isinstance(endpoint, str) or endpoint.split("://")[0] not in ("http", "https"):
            raise ValueError("endpoint must start with http:// or https://")
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not timeout > 0:
            raise ValueError("timeout must be a positive number of seconds")
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout
        self.clock_offset = 0  # server minus local clock, in ms (see sync_time)
        self.pagination = {}  # total, pages, limit, current_page of the last list read
        self._key = key
        self._http = transport or _transport()
        impl = sys.implementation
        self._headers = {
            "Content-Type": "application/json",
            "User-Agent": "m2x-micro/%s %s/%s" % (__version__, impl.name, ".".join([str(v) for v in impl.version[:3]])),
        }
        if key:
            self._headers["X-M2X-KEY"] = key

    def __repr__(self):
        return "<M2XClient %s>" % self.endpoint

    # HTTP: one request, the response closed in finally, failures as our own errors.
    def request(self, method, path, query=None, body=None, location=False):
        url = self.endpoint + "/v2" + path + _query(query or {})
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        try:
            resp = self._http.request(method, url, data=data, headers=self._headers, timeout=self.timeout)
        except (OSError, ValueError) as e:
            raise self._network_error(method, path, e)
        try:
            status = resp.status_code
            content = resp.content
            headers = getattr(resp, "headers", None)
        except (OSError, ValueError) as e:
            raise self._network_error(method, path, e)
        finally:
            resp.close()
        result = self._decode(status, content, headers)
        if location:
            return result, _header(headers, "location")
        return result

    def _decode(self, status, content, headers):
        if status == 204 or (not content and 200 <= status < 300):
            return None
        text = content.decode()
        if 200 <= status < 300 and "json" not in (_header(headers, "content-type") or "json"):
            return text
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        if 200 <= status < 300:
            if body is None:
                raise M2XError("HTTP %d with a body that is not JSON" % status)
            return body
        if not isinstance(body, dict):
            body = {"message": text[:80]}
        retry = _header(headers, "retry-after")
        raise HTTPError(status, self._redact(body.get("message") or body.get("error") or ""),
                        body.get("errors"), int(retry) if retry and retry.isdigit() else None)

    def _network_error(self, method, path, exc):
        # errno is args[0] of an OSError on both interpreters (MicroPython's ValueError
        # would answer .errno too, with its message).
        errno = exc.args[0] if isinstance(exc, OSError) and exc.args and isinstance(exc.args[0], int) else None
        return NetworkError(self._redact("%s %s failed: %r" % (method, path, exc)), errno)

    def _redact(self, text):
        return text.replace(self._key, "<key>") if self._key else text

    def _list(self, path, cls, query, base=None):
        body = self.request("GET", path, query=_stamped(query))
        self.pagination = {}
        for name in ("total", "pages", "limit", "current_page"):
            if name in body:
                self.pagination[name] = body[name]
        return [cls(self, item, base) for item in body[cls.ITEMS]]

    def iterate(self, list_method, **params):
        """Yield every item of a paginated list, one page in memory at a time:
        for device in client.iterate(client.devices, limit=20): ..."""
        page = params.pop("page", 1)
        while True:
            items = list_method(page=page, **params)
            for item in items:
                yield item
            if not items or page >= self.pagination.get("pages", page):
                return
            page += 1

    def _create(self, cls, path, params, base=None):
        return cls(self, self.request("POST", path, body=_stamped(params)), base)

    def _get(self, cls, ident, base=None):
        base = base or cls.BASE
        return cls(self, self.request("GET", base + "/" + _quote(_check_id(ident))), base)

    # Clock: stamp readings in server time on boards whose clock is unset.
    def sync_time(self, set_rtc=False):
        """Read /v2/time once; from then on now_ms() and timestamp() are in server time.
        With set_rtc=True also set machine.RTC where the board has one.
        Returns the correction in milliseconds."""
        sent = _local_now_ms()
        server = self.time()["millis"]
        self.clock_offset = server - (sent + _local_now_ms()) // 2
        if set_rtc:
            self._set_rtc()
        return self.clock_offset

    def _set_rtc(self):
        try:
            import machine
            rtc = machine.RTC()
        except (ImportError, AttributeError):
            return
        now = self.now_ms() - _epoch_offset() * 1000  # the RTC counts on the local epoch
        days = (now // 1000 + _epoch_offset()) // 86400
        year, month, day = _civil_from_days(days)
        seconds = now // 1000 % 86400
        rtc.datetime((year, month, day, (days + 3) % 7, seconds // 3600, seconds // 60 % 60, seconds % 60, 0))
        self.clock_offset = now + _epoch_offset() * 1000 - _local_now_ms()

    def now_ms(self):
        """Unix milliseconds now, corrected by sync_time()."""
        return _local_now_ms() + self.clock_offset

    def timestamp(self, ts=None):
        """The API's ISO 8601 form of ts, or of now (in server time after sync_time())."""
        return format_iso8601(self.now_ms() if ts is None else to_unix_ms(ts))

    # Account level
    def status(self):
        return self.request("GET", "/status")

    def time(self):
        return self.request("GET", "/time")

    def time_seconds(self):
        return int(self.request("GET", "/time/seconds"))

    def time_millis(self):
        return int(self.request("GET", "/time/millis"))

    def time_iso8601(self):
        return self.request("GET", "/time/iso8601").strip()

    def devices(self, **params):
        return self._list("/devices", Device, params)

    def create_device(self, **params):
        return self._create(Device, "/devices", params)

    def device(self, id):
        return self._get(Device, id)

    def devices_search(self, **params):
        # Structured filters travel in a JSON body, the rest as query parameters.
        body = {}
        for name in ("streams", "location", "metadata"):
            if isinstance(params.get(name), dict):
                body[name] = params.pop(name)
        found = self.request("GET", "/devices/search", query=_stamped(params), body=body or None)
        return [Device(self, item) for item in found["devices"]]

    def device_catalog(self, **params):
        return self._list("/devices/catalog", Device, params)

    def device_tags(self):
        return self.request("GET", "/devices/tags")["tags"]

    def distributions(self, **params):
        return self._list("/distributions", Distribution, params)

    def create_distribution(self, **params):
        return self._create(Distribution, "/distributions", params)

    def distribution(self, id):
        return self._get(Distribution, id)

    def collections(self, **params):
        return self._list("/collections", Collection, params)

    def create_collection(self, **params):
        return self._create(Collection, "/collections", params)

    def collection(self, id):
        return self._get(Collection, id)

    def keys(self, **params):
        return self._list("/keys", Key, params)

    def create_key(self, **params):
        return self._create(Key, "/keys", params)

    def key(self, key):
        return self._get(Key, key)

    def commands(self, **params):
        return self._list("/commands", Command, params)

    def send_command(self, **params):
        body, location = self.request("POST", "/commands", body=params, location=True)
        data = body or {}
        if location:
            data["id"] = location.rsplit("/", 1)[-1]
        return Command(self, data)

    def command(self, id):
        return self._get(Command, id)

    def job(self, id):
        return self._get(Job, id)


# --- Resources ---------------------------------------------------------------------


class Handle:
    """The client, the resource's path and the server's JSON as a plain dict."""

    BASE = ""
    ID = "id"
    ITEMS = ""

    def __init__(self, client, data, base=None):
        self.client = client
        self.data = data
        self.path = (base or self.BASE) + "/" + _quote(data.get(self.ID, ""))

    def __getitem__(self, name):
        return self.data[name]

    def __getattr__(self, name):
        try:
            return self.data[name]
        except KeyError:
            raise AttributeError(name)

    def get(self, name, default=None):
        return self.data.get(name, default)

    def __repr__(self):
        return "<%s %s>" % (type(self).__name__, self.path)

    def _call(self, method, sub="", query=None, body=None):
        return self.client.request(method, self.path + sub, query=query, body=body)


class Resource(Handle):
    def update(self, **attrs):
        result = self._call("PUT", body=_stamped(attrs))
        self.data.update(attrs)
        return result

    def remove(self):
        return self._call("DELETE")


class MetadataResource(Resource):
    def read_metadata(self):
        return self._call("GET", "/metadata")

    def read_metadata_field(self, field):
        return self._call("GET", "/metadata/" + _quote(_check_id(field, "field")))

    def update_metadata(self, params):
        if not isinstance(params, dict):
            raise TypeError("metadata must be a dict")
        return self._call("PUT", "/metadata", body=params)

    def update_metadata_field(self, field, value):
        return self._call("PUT", "/metadata/" + _quote(_check_id(field, "field")), body={"value": value})


class Device(MetadataResource):
    BASE = "/devices"
    ITEMS = "devices"

    def streams(self):
        return self.client._list(self.path + "/streams", Stream, {}, self.path + "/streams")

    def stream(self, name):
        return self.client._get(Stream, name, self.path + "/streams")

    def create_stream(self, name, **params):
        # 201 returns the new stream; 204 (it existed) returns nothing, so keep what we know.
        data = self._call("PUT", "/streams/" + _quote(_check_id(name, "name")), body=params)
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

    def location(self):
        return self._call("GET", "/location")

    def update_location(self, **params):
        return self._call("PUT", "/location", body=_stamped(params))

    def location_history(self, **params):
        return self._call("GET", "/location/waypoints", query=_stamped(params))

    def delete_location_history(self, **params):
        # `from` is a Python keyword: start= is accepted for it.
        if "start" in params:
            params["from"] = params.pop("start")
        return self._call("DELETE", "/location/waypoints", body=_stamped(params))

    def log(self):
        return self._call("GET", "/log")

    def post_update(self, **params):
        params = _stamped(params)
        values = params.get("values") or {}
        for name in values:
            _check_value(values[name])
        return self._call("POST", "/update", body=params)

    def post_updates(self, **params):
        values = params.get("values")
        if not isinstance(values, dict):
            raise TypeError("values must be a dict of stream name to a list of values")
        params = _stamped(params)
        params["values"] = stamped = {}
        for name in values:
            stamped[name] = _stamp_values(self.client, values[name])
        return self._call("POST", "/updates", body=params)

    def values(self, **params):
        return self._call("GET", "/values", query=_stamped(params))

    def values_export(self, **params):
        """The API answer with, under "job", the id of the export job to poll."""
        body, location = self.client.request("GET", self.path + "/values/export.csv",
                                             query=_stamped(params), location=True)
        body = body or {}
        if location:
            body["job"] = location.rsplit("/", 1)[-1]
        return body

    def values_search(self, **params):
        return self._call("POST", "/values/search", body=_stamped(params))

    def commands(self, **params):
        return self._call("GET", "/commands", query=_stamped(params))

    def command(self, id):
        return self._call("GET", "/commands/" + _quote(_check_id(id)))

    def process_command(self, id, **params):
        return self._call("POST", "/commands/%s/process" % _quote(_check_id(id)), body=params)

    def reject_command(self, id, **params):
        return self._call("POST", "/commands/%s/reject" % _quote(_check_id(id)), body=params)


def _stamp_values(client, values):
    # [{"value": v, "timestamp"?: ts}, ...] -> a new list in API form; a missing
    # timestamp gets the client's (server-corrected) now.
    if not isinstance(values, (list, tuple)):
        raise TypeError("values must be a list of {'value': v, 'timestamp': t} dicts")
    out = []
    for item in values:
        if not isinstance(item, dict) or "value" not in item:
            raise TypeError("each value must be a dict with a 'value'")
        out.append({"timestamp": client.timestamp(item.get("timestamp")), "value": _check_value(item["value"])})
    return out



class Stream(Resource):
    ID = "name"
    ITEMS = "streams"

    def values(self, **params):
        return self._call("GET", "/values", query=_stamped(params))

    def sampling(self, interval, **params):
        params["interval"] = interval
        return self._call("GET", "/sampling", query=_stamped(params))

    def stats(self, **params):
        return self._call("GET", "/stats", query=_stamped(params))

    def add_value(self, value, timestamp=None):
        body = {"value": _check_value(value)}
        if timestamp is not None:
            body["timestamp"] = iso8601(timestamp)
        return self._call("PUT", "/value", body=body)

    update_value = add_value

    def post_values(self, values):
        return self._call("POST", "/values", body={"values": _stamp_values(self.client, values)})

    def delete_values(self, start, stop):
        return self._call("DELETE", "/values", body={"from": iso8601(start), "end": iso8601(stop)})

    def update(self, **attrs):
        Resource.update(self, **attrs)
        return self


class Distribution(MetadataResource):
    BASE = "/distributions"
    ITEMS = "distributions"

    def devices(self, **params):
        return self.client._list(self.path + "/devices", Device, params)

    def add_device(self, serial, **params):
        params["serial"] = _check_id(serial, "serial")
        return self.client._create(Device, self.path + "/devices", params)


class Collection(MetadataResource):
    BASE = "/collections"
    ITEMS = "collections"

    def devices(self, **params):
        return self.client._list(self.path + "/devices", Device, params)

    def add_device(self, device_id):
        return self._call("PUT", "/devices/" + _quote(_check_id(device_id)))

    def remove_device(self, device_id):
        return self._call("DELETE", "/devices/" + _quote(_check_id(device_id)))


class Key(Resource):
    BASE = "/keys"
    ID = "key"
    ITEMS = "keys"

    def regenerate(self):
        """The key gets a new value; the old one stops working. Returns self."""
        self.data = self._call("POST", "/regenerate")
        self.path = self.BASE + "/" + _quote(self.data["key"])
        return self


class Command(Handle):
    BASE = "/commands"
    ITEMS = "commands"


class Job(Handle):
    BASE = "/jobs"
    ITEMS = "jobs"
