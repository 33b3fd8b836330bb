# The CPython urequests shim must behave like the device's: same arguments, same
# response attributes, same failures. Exercised over real loopback sockets.
import errno
import http.server
import sys
import threading
import time

import pytest

import cpython_shim
import m2x_micro
from cpython_shim import urequests
from e2e_support import dead_ends


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if ("Transfer-Encoding", "chunked") not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        routes = {
            "/json": lambda: self.answer(200, b'{"a":1}', [("Content-Type", "application/json"), ("X-Custom-Case", "v")]),
            "/chunked": lambda: self.answer(200, b"3\r\nabc\r\n0\r\n\r\n", [("Transfer-Encoding", "chunked")]),
            "/error-with-location": lambda: self.answer(404, b"{}", [("Location", "/elsewhere")]),
            "/redirect": lambda: self.answer(302, b"", [("Location", "/json")]),
            "/slow": lambda: (time.sleep(1.5), self.answer(200, b"late")),
        }
        routes[self.path]()

    def do_PUT(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.answer(200, body, [("Content-Type", self.headers.get("Content-Type", ""))])


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # the /slow answer finds its client gone, as intended


@pytest.fixture(scope="module")
def base_url():
    server = QuietServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_response_has_the_device_attributes_only(base_url):
    r = urequests.request("GET", base_url + "/json", headers={"Accept": "application/json"}, timeout=5)
    assert (r.status_code, r.content, r.text, r.json(), r.reason) == (200, b'{"a":1}', '{"a":1}', {"a": 1}, b"OK")
    assert type(r.headers) is dict and r.headers["X-Custom-Case"] == "v"
    for missing in ("ok", "raise_for_status", "iter_content", "elapsed", "cookies", "url"):
        assert not hasattr(r, missing)
    with pytest.raises((AttributeError, TypeError)):
        with r:
            pass
    r.close()
    with pytest.raises(AttributeError):
        r.content


def test_only_device_arguments_are_accepted(base_url):
    url = base_url + "/json"
    with pytest.raises(TypeError):
        urequests.get(url, params={"a": "1"})
    with pytest.raises(TypeError):
        urequests.get(url, verify=True)
    with pytest.raises(TypeError):
        urequests.get(url, headers={"Content-Length": 3})
    with pytest.raises(TypeError):
        urequests.put(url, data={"a": 1})
    with pytest.raises(ValueError):
        urequests.put(url, data="température")
    with pytest.raises(ValueError):
        urequests.get("ftp://127.0.0.1/x")


def test_data_and_json_bodies_are_sent(base_url):
    assert urequests.put(base_url + "/echo", data=b'{"v":1}').content == b'{"v":1}'
    r = urequests.put(base_url + "/echo", json={"v": 2})
    assert r.json() == {"v": 2} and r.headers["Content-Type"] == "application/json"


def test_a_generator_body_goes_with_the_callers_content_length(base_url):
    chunks = iter([b'{"v":', b"3}"])
    assert urequests.put(base_url + "/echo", data=chunks, headers={"Content-Length": "7"}).content == b'{"v":3}'


def test_what_a_generator_body_raises_comes_through_as_it_is(base_url):
    def body():
        yield b'{"v":'
        raise OSError(errno.ETIMEDOUT, "ETIMEDOUT")  # the client's deadline, while sending

    with pytest.raises(OSError) as caught:
        urequests.put(base_url + "/echo", data=body(), headers={"Content-Length": "100"})
    assert caught.value.errno == errno.ETIMEDOUT


def test_device_failures_are_reproduced(base_url):
    with pytest.raises(ValueError):
        urequests.get(base_url + "/chunked")
    with pytest.raises(NotImplementedError):
        urequests.get(base_url + "/error-with-location")
    assert urequests.get(base_url + "/redirect").json() == {"a": 1}


def test_network_failures_are_oserrors_with_errno(base_url):
    with dead_ends() as (closed_url, _), pytest.raises(OSError) as refused:
        urequests.get(closed_url + "/", timeout=2)
    assert refused.value.errno == errno.ECONNREFUSED
    with pytest.raises(OSError) as slow:
        urequests.get(base_url + "/slow", timeout=0.3)
    assert slow.value.errno == errno.ETIMEDOUT


def test_install_makes_m2x_micro_use_the_shim(monkeypatch):
    monkeypatch.setitem(sys.modules, "urequests", None)  # `import urequests` fails until install(); undone after
    shim = cpython_shim.install()
    assert m2x_micro.M2XClient("k", "http://127.0.0.1:1")._http is shim
