# Devices and their data: streams, values, batches, exports, location, log.
import e2e_common
import m2x_micro
from checks import raises
from e2e_common import at, client, new_device, status_of
from m2x_micro import HTTPError


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
    anonymous = m2x_micro.M2XClient(None, e2e_common.URL)  # the catalog needs no key
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
        stream.add_value(i)  # the server stamps these
    assert sorted([v["value"] for v in stream.values()["values"]]) == list(range(10))


def test_a_batch_without_timestamps_keeps_every_value():
    device = new_device(client())
    stream = device.create_stream("batch")
    stream.post_values([{"value": i} for i in range(5)])  # the client stamps these, all at once
    device.post_updates(values={"batch": [{"value": i} for i in range(5, 10)]})
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
    import requests as http  # any HTTP client: the export's URL needs no key

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
