# A fake urequests for unit tests: records each request, answers from a queue.
# Its request() takes exactly the arguments the device's urequests takes, so a client
# passing anything else fails here as it would on a board.
import json


class FakeBody:
    """The device's response.raw: read(n) gives at most n bytes, b"" at the end."""

    def __init__(self, content):
        self.content = content
        self.at = 0

    def read(self, n):
        chunk = self.content[self.at : self.at + n]
        self.at += len(chunk)
        return chunk


class FakeResponse:
    def __init__(self, status, content, headers):
        self.status_code = status
        self.content = content
        self.headers = headers
        self.raw = FakeBody(content)
        self.closed = False

    @property
    def text(self):
        return self.content.decode()

    def json(self):
        return json.loads(self.content)

    def close(self):
        self.closed = True


class FakeHTTP:
    def __init__(self):
        self.calls = []  # (method, url, data, headers, timeout)
        self.replies = []
        self.responses = []  # every response handed out, to check they were closed

    def reply(self, status=200, body=None, headers=None):
        """Queue an answer: body is a dict/list (sent as JSON), a str/bytes, or None.
        Content-Length is given unless headers say otherwise."""
        headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            content = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            content = body.encode()
        else:
            content = body or b""
        headers.setdefault("Content-Length", str(len(content)))
        self.replies.append((status, content, {k: v for k, v in headers.items() if v is not None}))
        return self

    def fail(self, exc):
        """Queue an exception raised by request(), as the network layer would."""
        self.replies.append(exc)
        return self

    def request(self, method, url, data=None, headers=None, timeout=None, stream=None):
        if data is not None and not isinstance(data, (bytes, bytearray)):  # streamed: as sent
            data = b"".join([bytes(chunk) for chunk in data])
        self.calls.append((method, url, data, headers, timeout))
        assert self.replies, "no answer queued for %s %s" % (method, url)
        answer = self.replies.pop(0)
        if isinstance(answer, Exception):
            raise answer
        response = FakeResponse(*answer)
        self.responses.append(response)
        return response

    # What tests look at.
    def last(self):
        """(method, path, query dict, body or None) of the last request."""
        method, url, data, headers, timeout = self.calls[-1]
        return (method,) + split_url(url) + (None if data is None else json.loads(data),)

    def all_closed(self):
        return all([r.closed for r in self.responses])


def unquote(text):
    raw = text.encode()
    out = bytearray()
    i = 0
    while i < len(raw):
        if raw[i] == 37:  # '%'
            out.append(int(raw[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(raw[i])
            i += 1
    return bytes(out).decode()


def split_url(url):
    """'http://h/v2/devices?a=1&b=x%20y' -> ('/v2/devices', {'a': '1', 'b': 'x y'})."""
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    query = {}
    if "?" in path:
        path, qs = path.split("?", 1)
        for part in qs.split("&"):
            name, value = part.split("=", 1)
            query[unquote(name)] = unquote(value)
    return path, query
