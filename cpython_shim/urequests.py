"""urequests for CPython: MicroPython's request API over CPython `requests`, and no more.

Put this folder first on sys.path (or PYTHONPATH) and `import urequests` behaves as on a
board: the same arguments, the same response attributes, the same exception types.
Anything the device's urequests would not accept raises here too, so a desktop test
fails where the board would fail:
- request(method, url, data=None, json=None, headers=None, timeout=None): no params=,
  no session, no verify=; only http:// and https:// URLs.
- header names and values must be str; data must be bytes (a str is accepted only when
  it is ASCII: the device counts Content-Length in characters).
- a response has status_code, reason (bytes), headers (a plain dict with the server's
  casing), content, text, json() and close(); no ok, raise_for_status(), iter_content()
  or `with`. Its body cannot be read after close(), as on the device.
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
    def __init__(self, status_code, reason, headers, content):
        self.status_code = status_code
        self.reason = reason
        self.headers = headers
        self.encoding = "utf-8"
        self._content = content

    def close(self):
        self._content = None

    @property
    def content(self):
        if self._content is None:
            raise AttributeError("'NoneType' object has no attribute 'read' (response closed)")
        return self._content

    @property
    def text(self):
        return str(self.content, self.encoding)

    def json(self):
        return _json.loads(self.content)


def _check_arguments(url, data, headers, timeout):
    if url.split("/", 1)[0] not in ("http:", "https:"):
        raise ValueError("Unsupported protocol: " + url.split("/", 1)[0])
    for name, value in (headers or {}).items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError("header %r: names and values must be str" % (name,))
    if data is not None and not isinstance(data, (bytes, bytearray)):
        if not isinstance(data, str):
            raise TypeError("data must be bytes, not %s" % type(data).__name__)
        if not data.isascii():
            raise ValueError("non-ASCII str data: the device would send a wrong Content-Length")
    if timeout is not None and not isinstance(timeout, (int, float)):
        raise TypeError("timeout must be a number of seconds")


def _os_error(exc):
    """The OSError MicroPython raises for the failure behind a requests exception."""
    if isinstance(exc, _requests.Timeout):
        return OSError(errno.ETIMEDOUT, "ETIMEDOUT")
    # requests wraps urllib3's error, which wraps the socket's: follow the chain down.
    seen = exc
    while seen is not None:
        code = getattr(seen, "errno", None)
        if isinstance(code, int):
            return OSError(code, errno.errorcode.get(code, str(seen)))
        seen = getattr(seen, "reason", None) or seen.__cause__ or seen.__context__
    return OSError(errno.EIO, str(exc))


def request(method, url, data=None, json=None, headers=None, timeout=None):
    _check_arguments(url, data, headers, timeout)
    if json is not None:
        if data is not None:
            raise ValueError("data and json are exclusive")
        data = _json.dumps(json).encode()
        headers = dict(headers or {})
        headers.setdefault("Content-Type", "application/json")
    try:
        answer = _requests.request(method, url, data=data, headers=headers, timeout=timeout, verify=False)
    except _requests.RequestException as exc:
        raise _os_error(exc) from exc
    raw_headers = dict(answer.headers)
    if any(k.lower() == "transfer-encoding" and "chunked" in v.lower() for k, v in raw_headers.items()):
        raise ValueError("Unsupported Transfer-Encoding: chunked")
    if not 200 <= answer.status_code <= 299 and answer.status_code not in _REDIRECTS:
        if any(k.lower() == "location" for k in raw_headers):
            raise NotImplementedError("Redirect %d not yet supported" % answer.status_code)
    return Response(answer.status_code, (answer.reason or "").encode(), raw_headers, answer.content)


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
