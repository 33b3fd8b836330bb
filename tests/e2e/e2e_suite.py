# End to end: m2x_micro against a real m2x_server over real sockets. Portable test_*
# functions: pytest runs them on CPython through the urequests shim (tests/test_e2e.py), and
# mp_runner.py on the MicroPython unix port (tests/test_e2e_micropython.py). The server's
# address and master key come from the environment: E2E_URL, E2E_KEY, E2E_CLOSED_URL (a
# port nothing listens on) and E2E_SILENT_URL (one that accepts and never answers).
import errno
import os

import m2x_micro
from checks import raises
from m2x_micro import HTTPError, NetworkError

URL = os.getenv("E2E_URL")
KEY = os.getenv("E2E_KEY")

def at(second, ms=0):
    return "2026-01-02T03:04:%02d.%03dZ" % (second, ms)


def client(key=None, url=None, timeout=10):
    return m2x_micro.M2XClient(key or KEY, url or URL, timeout=timeout)


def new_device(c, name="e2e device", **params):
    params.setdefault("visibility", "private")
    return c.create_device(name=name, **params)


def status_of(fn, *args, **kw):
    return raises(HTTPError, fn, *args, **kw).status


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


def test_device_create_read_list_search_update_remove():
    c = client()
    device = new_device(c, "thermostat", description="hall", tags=["e2e", "hall"], serial="ser-1")
    assert len(device.id) == 32 and device["name"] == "thermostat" and device.key
    assert c.device(device.id)["description"] == "hall"
    assert device.id in [d.id for d in c.iterate(c.devices, limit=5)]  # a page at a time
    assert [d.id for d in c.devices_search(serial="ser-1")] == [device.id]
    assert c.device_tags()["hall"] >= 1
    assert device.update(name="thermostat 2", visibility="public") is None
    assert device.name == "thermostat 2"
    fetched = c.device(device.id)
    assert (fetched["name"], fetched["visibility"], fetched["description"]) == ("thermostat 2", "public", "hall")
    assert device.remove() is None
    assert status_of(c.device, device.id) == 404


def test_catalog_lists_public_devices_only():
    c = client()
    public = new_device(c, "public one", visibility="public")
    private = new_device(c, "private one")
    anonymous = m2x_micro.M2XClient(None, URL)  # the catalog needs no key
    listed = [d.id for d in anonymous.iterate(anonymous.device_catalog)]
    assert public.id in listed and private.id not in listed


def test_streams():
    device = new_device(client())
    stream = device.create_stream("temperature", unit={"label": "celsius", "symbol": "C"})
    assert stream.name == "temperature" and stream["unit"]["symbol"] == "C"
    device.create_stream("humidity", type="numeric")
    assert sorted([s.name for s in device.streams()]) == ["humidity", "temperature"]
    again = device.update_stream("humidity", display_name="Humidity")  # existed: 204
    assert again.name == "humidity"
    assert device.stream("humidity")["display_name"] == "Humidity"
    assert stream.update(display_name="Temp").name == "temperature"
    assert device.stream("temperature")["display_name"] == "Temp"
    assert stream.remove() is None
    assert status_of(device.stream, "temperature") == 404


def test_stream_values_sampling_stats_and_delete():
    device = new_device(client())
    stream = device.create_stream("t")
    assert stream.add_value(10, at(1))["status"] == "accepted"
    stream.update_value(20, at(2))
    stream.post_values([{"timestamp": at(3), "value": 30}, {"timestamp": at(4), "value": "40"}])
    values = stream.values()["values"]
    assert [v["value"] for v in values] == [40, 30, 20, 10]  # newest first
    assert [v["timestamp"] for v in values][:2] == [at(4), at(3)]
    stream.add_value(25, at(2))  # the same timestamp replaces
    assert [v["value"] for v in stream.values(start=at(2), end=at(3))["values"]] == [30, 25]
    stats = stream.stats()["stats"]
    assert (stats["count"], stats["min"], stats["max"]) == (4, 10, 40)
    sampled = stream.sampling(60, type="max")["values"]
    assert [v["value"] for v in sampled] == [40]
    assert stream.delete_values(at(1), at(2)) is None
    assert [v["value"] for v in stream.values()["values"]] == [40, 30]
    assert device.stream("t")["value"] == 40


def test_values_without_timestamp_all_land():
    stream = new_device(client()).create_stream("rng")
    for i in range(10):
        stream.add_value(i)
    assert sorted([v["value"] for v in stream.values()["values"]]) == list(range(10))


def test_post_update_post_updates_and_device_values():
    device = new_device(client())
    device.create_stream("a")
    device.create_stream("b")
    assert device.post_update(values={"a": 1, "b": 2}, timestamp=at(1))["status"] == "accepted"
    device.post_updates(values={"a": [{"timestamp": at(2), "value": 3}], "b": [{"timestamp": at(2), "value": 4}]})
    rows = device.values(start=at(0), end=at(9))["values"]
    assert [(r["timestamp"], r["values"]) for r in rows] == [(at(2), {"a": 3, "b": 4}), (at(1), {"a": 1, "b": 2})]
    found = device.values_search(start=at(0), end=at(9), streams=["a"], conditions={"a": {"gt": 2}})["values"]
    assert [r["values"]["a"] for r in found] == [3]
    e = raises(HTTPError, device.post_updates, values={"nope": [{"timestamp": at(1), "value": 1}]})
    assert e.status == 422 and "nope" in e.errors


def test_values_export_job_serves_a_csv():
    import requests as http  # the transport the client uses on this interpreter

    device = new_device(client())
    device.create_stream("a")
    device.post_update(values={"a": 7}, timestamp=at(1))
    answer = device.values_export()
    assert answer["status"] == "accepted" and len(answer["job"]) > 0
    job = client().job(answer["job"])
    assert job["state"] == "complete"
    r = http.request("GET", job["result"]["url"])
    try:
        lines = r.text.strip().splitlines()
    finally:
        r.close()
    assert "a" in lines[0] and "7" in lines[1]


def test_location_and_waypoints():
    device = new_device(client())
    assert device.location() is None
    device.update_location(latitude=-37.97, longitude=-57.54, name="Server Room", elevation=5, timestamp=at(1))
    device.update_location(latitude=-37.98, longitude=-57.55, timestamp=at(2))
    assert float(device.location()["latitude"]) == -37.98
    assert len(device.location_history()["waypoints"]) == 2
    device.delete_location_history(start=at(0), end=at(1))
    assert [w["timestamp"] for w in device.location_history()["waypoints"]] == [at(2)]


def test_request_log():
    device = new_device(client())
    device.location()
    entries = device.log()["requests"]
    assert entries[0]["http_method"] == "GET" and entries[0]["path"].endswith("/location")


def test_metadata_on_devices_distributions_and_collections():
    c = client()
    for resource in (new_device(c), c.create_distribution(name="d", visibility="private"), c.create_collection(name="c")):
        assert resource.update_metadata({"floor": 3, "room": "hall"}) is None
        assert resource.read_metadata() == {"floor": 3, "room": "hall"}
        resource.update_metadata_field("room", "attic")
        assert resource.read_metadata_field("room") == {"value": "attic"}


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


def test_distributions():
    c = client()
    dist = c.create_distribution(name="fleet", visibility="private", description="sensors")
    assert c.distribution(dist.id)["name"] == "fleet" and dist.id in [d.id for d in c.distributions()]
    member = dist.add_device("serial-e2e-1", name="fleet member")
    assert member["serial"] == "serial-e2e-1" and member["distribution"].endswith(dist.id)
    assert [d.id for d in dist.devices()] == [member.id]
    dist.update(name="fleet 2", visibility="private")
    assert c.distribution(dist.id)["name"] == "fleet 2"
    assert dist.remove() is None
    assert status_of(c.distribution, dist.id) == 404


def test_collections():
    c = client()
    coll = c.create_collection(name="building", description="all floors")
    device = new_device(c)
    assert c.collection(coll.id)["name"] == "building" and coll.id in [x.id for x in c.collections()]
    assert coll.add_device(device.id) is None
    assert [d.id for d in coll.devices()] == [device.id]
    assert coll.remove_device(device.id) is None
    assert coll.devices() == []
    coll.update(name="campus")
    assert c.collection(coll.id)["name"] == "campus"
    assert coll.remove() is None
    assert status_of(c.collection, coll.id) == 404


def test_commands_sent_processed_and_rejected():
    c = client()
    device = new_device(c)
    first = c.send_command(name="SAY_HELLO", data={"to": "you"}, targets={"devices": [device.id]})
    second = c.send_command(name="SELF_DESTRUCT", targets={"devices": [device.id]})
    assert first.id in [cmd.id for cmd in c.commands()]
    assert c.command(first.id)["data"] == {"to": "you"}
    board = client(device.key).device(device.id)
    pending = board.commands(status="pending")["commands"]
    assert sorted([cmd["name"] for cmd in pending]) == ["SAY_HELLO", "SELF_DESTRUCT"]
    assert board.command(first.id)["data"] == {"to": "you"}
    assert board.process_command(first.id, response={"ok": True}) is None
    assert board.reject_command(second.id, reason="no") is None
    assert board.commands(status="pending")["commands"] == []
    counts = c.command(first.id)["status_counts"]
    assert (counts["processed"], counts["pending"]) == (1, 0)
    assert status_of(board.process_command, first.id) == 422


def test_iterate_walks_every_page():
    c = client()
    ids = [new_device(c, "page %d" % i, tags=["paged"]).id for i in range(5)]
    walked = [d.id for d in c.iterate(c.devices_search, tags="paged", limit=2)]
    assert sorted(walked) == sorted(ids)
    assert c.pagination["pages"] == 3


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
