# m2x_micro on CPython as `pip install .` gives it: with no urequests to import, the client
# takes the shim (cpython_shim.urequests) over CPython's requests; given CPython's requests
# as its transport, it works with that too. Its errors wrap the socket's, and repeat the URL
# in their messages.
import copy
import errno

import pytest
import requests

import m2x_micro
from e2e_support import dead_ends

KEY = "0123456789abcdef0123456789abcdef"
SECRET_ID = "fedcba9876543210fedcba9876543210"


@pytest.fixture
def dead_urls():
    """(URL nothing listens on, URL that accepts connections and never answers)."""
    with dead_ends() as urls:
        yield urls


def client(url, timeout=10):
    return m2x_micro.M2XClient(KEY, url, timeout=timeout, transport=requests)


def test_refused_connection_gives_its_errno_and_keeps_the_key_out(dead_urls):
    closed_url, _ = dead_urls
    e = pytest.raises(m2x_micro.NetworkError, client(closed_url).key, SECRET_ID).value
    assert e.errno == errno.ECONNREFUSED
    assert "/keys/" in str(e) and SECRET_ID not in str(e) and KEY not in str(e)


def test_timeout_gives_etimedout(dead_urls):
    _, silent_url = dead_urls
    e = pytest.raises(m2x_micro.NetworkError, client(silent_url, timeout=0.3).status).value
    assert e.errno == errno.ETIMEDOUT


def test_copy_of_a_handle(m2x_server):
    api = m2x_micro.M2XClient(m2x_server.master_key, m2x_server.url, transport=requests)
    device = api.create_device(name="copied", visibility="private")
    twin = copy.copy(device)
    assert twin.id == device.id and twin.name == "copied"


def test_without_urequests_the_default_transport_is_the_shim_and_streams_as_a_board(m2x_server, tmp_path, monkeypatch):
    # CPython's requests would send a streamed body chunked beside its Content-Length, which
    # a server reads as a malformed request: the outbox relies on the shim's way.
    from cpython_shim import urequests as shim
    from m2x_micro.outbox import Outbox

    monkeypatch.delitem(__import__("sys").modules, "urequests", raising=False)
    api = m2x_micro.M2XClient(m2x_server.master_key, m2x_server.url)
    assert api._http is shim
    device = api.create_device(name="desktop", visibility="private")
    device.create_stream("t")
    box = Outbox(api, device.id, str(tmp_path / "outbox"))
    for value in range(5):
        box.add("t", value)
    assert box.flush() == 5
    assert sorted(v["value"] for v in device.stream("t").values()["values"]) == [0, 1, 2, 3, 4]
