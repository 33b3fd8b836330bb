"""urequests for CPython: MicroPython's request API over CPython `requests`, and no more.

Put this folder first on sys.path (or PYTHONPATH) and `import urequests` behaves as on a
board: the same arguments, the same response attributes, the same exception types.
Anything the device's urequests would not accept raises here too, so a desktop test
fails where the board would fail:
- request(method, url, data=None, json=None, headers=None, stream=None, timeout=None): no
  params=, no session, no verify=; only http:// and https:// URLs.
- header names and values must be str; data must be bytes (a str is accepted only when
  it is ASCII: the device counts Content-Length in characters) or a generator of bytes,
  sent as it comes with the caller's Content-Length header, else chunked.
- a response has status_code, reason (bytes), headers (a plain dict with the server's
  casing), raw (read(n): at most n bytes of the body, what has arrived; settimeout()),
  content, text,
  json() and close(); no ok, raise_for_status(), iter_content() or `with`. Its body
  cannot be read after close(), as on the device.
- a chunked response raises ValueError (released firmware's requests 0.10 cannot read
  one); a non-2xx answer with a Location header raises NotImplementedError, as there.
- network failures are OSError carrying the errno MicroPython would give
  (ETIMEDOUT, ECONNREFUSED, ...); certificates are not verified, as on the device.
"""
import errno
import json as _json

import requests as _requests
import urllib3

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

_REDIRECTS = (301, 302, 303, 307, 308)


class Response:
    """The device's response: the body is read from .raw when first asked for, and not
    after close()."""

    def __init__(self, status_code, reason, headers, raw):
        self.status_code = status_code
        self.reason = reason
        self.headers = headers
        self.encoding = "utf-8"
        self.raw = raw
        self._content = None

    def close(self):
        if self.raw is not None:
            self.raw.close()
        self.raw = None
        self._content = None

    @property
    def content(self):
        if self._content is None:
            if self.raw is None:
                raise AttributeError("'NoneType' object has no attribute 'read' (response closed)")
            try:
                content = self.raw.read()
            finally:
                self.close()
            self._content = content
        return self._content

    @property
    def text(self):
        return str(self.content, self.encoding)

    def json(self):
        return _json.loads(self.content)


class _Body:
    """response.raw as on the device: read(n) returns what has arrived, up to n bytes
    (one socket read, so a slow server cannot hold a small read for long), and network
    failures are OSError."""

    def __init__(self, answer):
        self._answer = answer

    def read(self, n=-1):
        try:
            if n is None or n < 0:
                return self._answer.raw.read()
            return self._answer.raw.read1(n)
        except (_requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            raise _os_error(exc) from exc

    def settimeout(self, seconds):
        # As the device's raw socket: the timeout of each read from now on. The socket is
        # the one http.client reads the answer from (its connection lets go of it when the
        # server closes after answering).
        reader = getattr(getattr(self._answer.raw, "_fp", None), "fp", None)
        sock = getattr(getattr(reader, "raw", None), "_sock", None)
        if sock is not None:
            sock.settimeout(seconds)

    def close(self):
        self._answer.close()


class _Sized:
    """A generator body with the caller's Content-Length: sent as it is, not chunked,
    as the device's requests does."""

    def __init__(self, chunks, length):
        self._chunks = chunks
        self._length = length
        self.sent_all = False
        self.failure = None  # what the caller's generator raised (a deadline, say)

    def __iter__(self):
        try:
            for chunk in self._chunks:
                yield chunk
        except Exception as exc:
            self.failure = exc
            raise
        self.sent_all = True

    def __len__(self):
        return self._length


def _check_arguments(url, data, headers, timeout):
    if url.split("/", 1)[0] not in ("http:", "https:"):
        raise ValueError("Unsupported protocol: " + url.split("/", 1)[0])
    for name, value in (headers or {}).items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError("header %r: names and values must be str" % (name,))
    if data is not None and not isinstance(data, (bytes, bytearray)) and not hasattr(data, "__next__"):
        if not isinstance(data, str):
            raise TypeError("data must be bytes or a generator of bytes, not %s" % type(data).__name__)
        if not data.isascii():
            raise ValueError("non-ASCII str data: the device would send a wrong Content-Length")
    if timeout is not None and not isinstance(timeout, (int, float)):
        raise TypeError("timeout must be a number of seconds")


def _os_error(exc):
    """The OSError MicroPython raises for the failure behind a requests exception."""
    if isinstance(exc, (_requests.Timeout, urllib3.exceptions.TimeoutError)):
        return OSError(errno.ETIMEDOUT, "ETIMEDOUT")
    # requests wraps urllib3's error, which wraps the socket's: follow the chain down.
    seen = exc
    while seen is not None:
        code = getattr(seen, "errno", None)
        if isinstance(code, int):
            return OSError(code, errno.errorcode.get(code, str(seen)))
        seen = getattr(seen, "reason", None) or seen.__cause__ or seen.__context__
    return OSError(errno.EIO, str(exc))


def request(method, url, data=None, json=None, headers=None, stream=None, timeout=None):
    # stream= is accepted and changes nothing, as on the device: the body is always read
    # from .raw when asked for.
    _check_arguments(url, data, headers, timeout)
    if json is not None:
        if data is not None:
            raise ValueError("data and json are exclusive")
        data = _json.dumps(json).encode()
        headers = dict(headers or {})
        headers.setdefault("Content-Type", "application/json")
    length = _header(headers, "content-length")
    if hasattr(data, "__next__") and length is not None:
        data = _Sized(data, int(length))
    try:
        answer = _requests.request(method, url, data=data, headers=headers, timeout=timeout, verify=False,
                                   stream=True)
    except _requests.RequestException as exc:
        if isinstance(data, _Sized) and data.failure is not None:
            raise data.failure  # as the device's requests lets it through
        if isinstance(data, _Sized) and not data.sent_all and not isinstance(exc, _requests.Timeout):
            # urllib3 swallows the reset of a send and reports the end of the answer; the
            # device's write fails there.
            raise OSError(errno.ECONNRESET, "ECONNRESET") from exc
        raise _os_error(exc) from exc
    raw_headers = dict(answer.headers)
    refusal = None
    if "chunked" in (_header(raw_headers, "transfer-encoding") or "").lower():
        refusal = ValueError("Unsupported Transfer-Encoding: chunked")
    elif not 200 <= answer.status_code <= 299 and answer.status_code not in _REDIRECTS:
        if _header(raw_headers, "location") is not None:
            refusal = NotImplementedError("Redirect %d not yet supported" % answer.status_code)
    if refusal:
        answer.close()
        raise refusal
    return Response(answer.status_code, (answer.reason or "").encode(), raw_headers, _Body(answer))


def _header(headers, name):
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None


def head(url, **kw):
    return request("HEAD", url, **kw)


def get(url, **kw):
    return request("GET", url, **kw)


def post(url, **kw):
    return request("POST", url, **kw)


def put(url, **kw):
    return request("PUT", url, **kw)


def patch(url, **kw):
    return request("PATCH", url, **kw)


def delete(url, **kw):
    return request("DELETE", url, **kw)
