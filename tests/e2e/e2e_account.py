# Account level: status, time, keys, and errors surfacing as the client's exceptions.
import errno
import os

import m2x_micro
from checks import raises
from e2e_common import at, client, new_device, status_of
from m2x_micro import HTTPError, NetworkError


def test_status_and_time():
    c = client()
    assert c.status()["api"] == "OK"
    now = c.time()
    assert abs(c.time_seconds() - now["seconds"]) < 5
    assert abs(c.time_millis() - now["millis"]) < 5000
    assert abs(m2x_micro.parse_iso8601(c.time_iso8601()) - now["millis"]) < 5000
    assert abs(m2x_micro.parse_iso8601(now["iso8601"]) - now["millis"]) < 1000


def test_sync_time_stamps_in_server_time():
    c = client()
    c.sync_time()
    assert abs(c.now_ms() - c.time_millis()) < 2000


def test_keys():
    c = client()
    key = c.create_key(name="reader", permissions=["GET"])
    assert key.key in [k.key for k in c.keys()] and c.key(key.key)["name"] == "reader"
    reader = client(key.key)
    assert reader.devices(limit=1) is not None
    assert status_of(reader.create_device, name="x", visibility="private") == 403
    key.update(name="writer", permissions=["GET", "POST"])
    assert c.key(key.key)["permissions"] == ["GET", "POST"]
    old = key.key
    assert key.regenerate().key != old
    assert status_of(client(old).devices, limit=1) == 401
    assert client(key.key).devices(limit=1) is not None
    assert key.remove() is None
    assert status_of(client(key.key).devices, limit=1) == 401


def test_device_keys_reach_their_own_device_only():
    c = client()
    device, other = new_device(c), new_device(c)
    device.create_stream("t")
    own = client(device.key).device(device.id)
    own.stream("t").add_value(5, at(1))
    assert [k.key for k in device.keys()].count(device.key) == 1
    extra = device.create_key(name="stream key", permissions=["GET"])
    assert extra["device"].endswith(device.id)
    assert status_of(client(device.key).device, other.id) == 403
    assert status_of(client(device.key).devices) == 403


def test_errors_surface_as_the_clients_exceptions():
    c = client()
    device = new_device(c)
    stream = device.create_stream("t")
    assert status_of(client("0" * 32).devices, limit=1) == 401
    assert status_of(client(device.key).devices) == 403
    assert status_of(c.device, "0" * 32) == 404
    e = raises(HTTPError, c.create_device, visibility="private")
    assert e.status == 422 and "name" in e.errors
    assert status_of(stream.delete_values, at(5), at(1)) == 400


def test_server_not_listening_is_a_network_error():
    e = raises(NetworkError, client(url=os.getenv("E2E_CLOSED_URL")).status)
    assert e.errno == errno.ECONNREFUSED


def test_server_too_slow_is_a_timeout():
    e = raises(NetworkError, client(url=os.getenv("E2E_SILENT_URL"), timeout=1).status)
    assert e.errno == errno.ETIMEDOUT
