# Every request bounded: in time (the whole request, however slowly a server drips) and in
# memory (a cap on what is read); request bodies streamed from an iterable.
import errno
import json
import time

import m2x_micro
from checks import raises
from fake_http import FakeHTTP, FakeResponse


def client_with(http, **kw):
    return m2x_micro.M2XClient("k", "http://m2x.test", transport=http, **kw)


def now_ms():
    return time.ticks_ms() if hasattr(time, "ticks_ms") else int(time.monotonic() * 1000)


def since_ms(start):
    return time.ticks_diff(now_ms(), start) if hasattr(time, "ticks_diff") else now_ms() - start


class Drip:
    """A body that arrives one byte every 50 ms, for far longer than any timeout."""

    def read(self, n):
        time.sleep(0.05)
        return b" "


class SlowHTTP(FakeHTTP):
    """Answers a 200 of `length` bytes after `late` seconds, its body read from `raw`."""

    def __init__(self, raw, length, late=0):
        FakeHTTP.__init__(self)
        self.raw, self.length, self.late = raw, length, late

    def request(self, method, url, data=None, headers=None, timeout=None, stream=None):
        time.sleep(self.late)
        self.calls.append((method, url, data, headers, timeout))
        response = FakeResponse(200, b"", {"Content-Length": str(self.length)})
        response.raw = self.raw
        self.responses.append(response)
        return response


def test_a_dripping_answer_ends_at_the_timeout_with_etimedout():
    http = SlowHTTP(Drip(), 100000)
    start = now_ms()
    e = raises(m2x_micro.NetworkError, client_with(http, timeout=0.4, max_body=200000).status)
    took = since_ms(start)
    assert e.errno == errno.ETIMEDOUT, e.errno
    assert 350 <= took < 1000, took
    assert http.all_closed()


def test_the_transport_gets_what_is_left_of_the_timeout():
    http = FakeHTTP().reply(200, {"status": "OK"})
    client_with(http, timeout=3).status()
    assert 2.5 < http.calls[0][4] <= 3, http.calls[0][4]


def test_a_2xx_answer_over_max_body_is_an_m2x_error_before_it_is_read():
    http = FakeHTTP().reply(200, {"values": [1] * 100})
    e = raises(m2x_micro.M2XError, client_with(http, max_body=100).status)
    assert not isinstance(e, (m2x_micro.HTTPError, m2x_micro.NetworkError))
    assert "max_body=100" in str(e), str(e)
    assert http.responses[0].raw.at == 0  # not a byte of it read
    assert http.all_closed()


def test_a_2xx_answer_without_length_is_read_up_to_max_body_only():
    http = FakeHTTP().reply(200, json.dumps({"pad": "x" * 1000}), {"Content-Length": None})
    e = raises(m2x_micro.M2XError, client_with(http, max_body=256).status)
    assert "max_body=256" in str(e), str(e)
    assert http.responses[0].raw.at <= 257
    http = FakeHTTP().reply(200, json.dumps({"pad": "x" * 200}), {"Content-Length": None})
    assert client_with(http, max_body=256).status() == {"pad": "x" * 200}


def test_a_huge_error_page_is_read_only_as_far_as_the_message_needs():
    page = b"<html><title>Portal</title>" + b"x" * 300000 + b"</html>"
    for headers in ({}, {"Content-Length": None}):
        http = FakeHTTP().reply(502, page, headers)
        e = raises(m2x_micro.HTTPError, client_with(http).status)
        assert e.status == 502
        assert e.message.startswith("<html><title>Portal</title>"), e.message
        assert http.responses[0].raw.at <= 2048
        assert http.all_closed()


def test_an_answer_cut_short_is_a_network_error():
    http = FakeHTTP().reply(200, b'{"status": "O', {"Content-Length": "100"})
    e = raises(m2x_micro.NetworkError, client_with(http).status)
    assert "13 of 100" in str(e), str(e)
    assert http.all_closed()


def test_retry_after_comes_with_429_and_503():
    for status in (429, 503):
        http = FakeHTTP().reply(status, {"message": "slow down"}, {"Retry-After": "7"})
        e = raises(m2x_micro.HTTPError, client_with(http).status)
        assert (e.status, e.retry_after) == (status, 7)


def test_a_streamed_body_goes_with_its_content_length():
    http = FakeHTTP().reply(202, {"status": "accepted"})
    chunks = [b'{"values":', b'{"t":[{"timestamp":"2015-06-25T21:06:54.841Z","value":1}]}}']
    length = sum([len(c) for c in chunks])
    answer = client_with(http).request("POST", "/devices/d1/updates", data=iter(chunks), length=length)
    assert answer == {"status": "accepted"}
    method, url, data, headers, timeout = http.calls[0]
    assert headers["Content-Length"] == str(length) and data == b"".join(chunks)
    assert "Content-Length" not in client_with(http)._headers  # the shared headers stay as they were


class SlowSender(FakeHTTP):
    """A transport that takes 150 ms to send each chunk of a streamed body."""

    def request(self, method, url, data=None, headers=None, timeout=None, stream=None):
        for chunk in data:
            time.sleep(0.15)
        return FakeHTTP.request(self, method, url, b"", headers, timeout)


def test_a_streamed_body_stops_at_the_timeout():
    http = SlowSender()
    chunks = [b"x" * 10 for _ in range(100)]
    start = now_ms()
    e = raises(m2x_micro.NetworkError, client_with(http, timeout=0.5).request, "POST", "/x", data=iter(chunks), length=1000)
    assert e.errno == errno.ETIMEDOUT
    assert since_ms(start) < 1000


def test_memory_error_from_the_transport_is_a_network_error():
    http = FakeHTTP().fail(MemoryError("memory allocation failed"))
    raises(m2x_micro.NetworkError, client_with(http).status)


class Silent:
    """A body that stops after its first byte: each read waits for the socket's timeout,
    as a MicroPython socket does, then fails with EAGAIN."""

    def __init__(self):
        self.timeouts = []
        self.sent = False

    def settimeout(self, seconds):
        self.timeouts.append(seconds)

    def read(self, n):
        if not self.sent:
            self.sent = True
            return b"{"
        time.sleep(self.timeouts[-1])
        raise OSError(errno.EAGAIN)


def test_a_body_that_stops_ends_at_the_timeout_not_a_socket_timeout_later():
    http = SlowHTTP(Silent(), 100, late=0.3)  # headers after 300 ms, then a body that stops
    start = now_ms()
    e = raises(m2x_micro.NetworkError, client_with(http, timeout=0.5).status)
    took = since_ms(start)
    assert e.errno == errno.ETIMEDOUT, e.errno
    assert 450 <= took < 750, took  # a read waiting the whole timeout would end after 800 ms
    assert http.responses[0].raw.timeouts[-1] <= 0.25


def test_an_answer_is_read_up_to_its_content_length_only():
    # Bytes past the answer may be the next one on a kept connection: never read.
    http = FakeHTTP().reply(200, b'{"status":"OK"}GARBAGE', {"Content-Length": "15"})
    assert client_with(http).status() == {"status": "OK"}
    assert http.responses[0].raw.at == 15
    http = FakeHTTP().reply(204, b"never read", {"Content-Length": None})
    assert client_with(http).request("DELETE", "/devices/d1") is None
    assert http.responses[0].raw.at == 0


def test_answers_are_asked_for_uncompressed():
    # CPython's requests asks for gzip and, read raw as the client reads, gives it as it came.
    http = FakeHTTP().reply(200, {"status": "OK"})
    client_with(http).status()
    assert http.calls[0][3]["Accept-Encoding"] == "identity"
