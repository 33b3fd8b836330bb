# A fake urequests for unit tests: records each request, answers from a queue.
# Its request() takes exactly the arguments the device's urequests takes, so a client
# passing anything else fails here as it would on a board.
import json


class FakeResponse:
    def __init__(self, status, content, headers):
        self.status_code = status
        self.content = content
        self.headers = headers
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
        """Queue an answer: body is a dict/list (sent as JSON), a str/bytes, or None."""
        if isinstance(body, (dict, list)):
            content = json.dumps(body).encode()
            headers = dict(headers or {})
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            content = body.encode()
        else:
            content = body or b""
        self.replies.append((status, content, headers or {}))
        return self

    def fail(self, exc):
        """Queue an exception raised by request(), as the network layer would."""
        self.replies.append(exc)
        return self

    def request(self, method, url, data=None, headers=None, timeout=None):
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
