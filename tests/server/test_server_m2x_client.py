"""The original AT&T client, m2x==5.5.0, as a conformance peer: its documented workflows run
against m2x_server and read back what they wrote.

Its known bugs (spec section 7) are worked around here, never in the server: timestamps go in
as ISO strings (to_utc misreads datetimes), search and catalog get `params=` (they pass their
keywords to requests), Distribution.add_device gets a dict, and ids of commands come from
last_response's Location. Found here too: Key.update() and Key.remove() address the key by
`.id`, which keys lack (Key.item_update and a plain DELETE instead), and the `devices` and
`data` fields hide behind a method and the object's own storage (read with ["..."])."""

import pytest
from m2x.client import M2XClient
from m2x.v2.keys import Key
from requests import HTTPError


@pytest.fixture
def client(m2x_server):
    return M2XClient(key=m2x_server.master_key, endpoint=m2x_server.url)


@pytest.fixture
def device(client):
    return client.create_device(name="RNG Device Example", description="random numbers", visibility="public")


def http_status(call, *args, **kwargs):
    with pytest.raises(HTTPError) as error:
        call(*args, **kwargs)
    return error.value.response.status_code


def test_status_and_time(client):
    assert client.status() == {"api": "OK", "triggers": "OK"}
    now = client.time()
    assert abs(client.time_seconds() - now["seconds"]) <= 5
    assert abs(client.time_millis() - now["millis"]) <= 5000
    assert client.time_iso8601().decode()[:4] == now["iso8601"][:4]


def test_device_workflow(client, device, m2x_server):
    assert len(device.id) == 32 and device.visibility == "public"
    assert client.device(device.id).description == "random numbers"
    assert device.id in [item.id for item in client.devices()]
    device.update(name="Device2", description="Device2 description", visibility="private", status="enabled")
    fetched = client.device(device.id)
    assert (fetched.name, fetched.visibility, fetched.description) == ("Device2", "private", "Device2 description")
    client.create_device(name="tagged", visibility="public", tags=["tag1", "tag2"])
    assert client.device_tags() == {"tag1": 1, "tag2": 1}
    found = client.devices_search(params={"name": "tagged"})
    assert [item.name for item in found] == ["tagged"]
    catalog = client.device_catalog(params={"page": 1})
    assert [item.name for item in catalog] == ["tagged"]
    assert client.devices(q="tagged")[0].tags == ["tag1", "tag2"]
    assert device.remove() is None
    assert http_status(client.device, device.id) == 404


def test_stream_workflow(device):
    stream = device.create_stream("values", unit={"label": "points", "symbol": "p"})
    assert (stream.name, stream.type, stream.unit) == ("values", "numeric", {"label": "points", "symbol": "p"})
    for value in range(10):  # the usage document's example: ten values in a tight loop
        stream.add_value(value)
    stream.add_value(42, "2015-02-03T00:33:43.422440Z")
    stream.post_values([{"timestamp": "2015-02-03T00:33:44Z", "value": 43},
                        {"timestamp": "2015-02-03T00:33:45.5+00:00", "value": "44"}])
    values = stream.values(limit=1000)["values"]
    assert len(values) == 13
    assert values[-3:] == [{"timestamp": "2015-02-03T00:33:45.500Z", "value": 44},
                           {"timestamp": "2015-02-03T00:33:44.000Z", "value": 43},
                           {"timestamp": "2015-02-03T00:33:43.422Z", "value": 42}]
    assert device.stream("values").value == 9
    assert [s.name for s in device.streams()] == ["values"]
    stats = stream.stats(start="2015-02-03T00:00:00Z", end="2015-02-03T23:59:59Z")  # a JSON body on a GET
    assert stats["stats"]["count"] == 3 and stats["stats"]["avg"] == 43
    sampled = stream.sampling(interval=60, type="max", start="2015-02-03T00:00:00Z", end="2015-02-03T23:59:59Z")
    assert sampled["values"] == [{"timestamp": "2015-02-03T00:33:00.000Z", "value": 44.0}]
    stream.delete_values("2015-02-03T00:33:43Z", "2015-02-03T00:33:44Z")
    assert len(stream.values(limit=1000)["values"]) == 11
    stream.update(display_name="Values")
    assert device.stream("values").display_name == "Values"
    stream.remove()
    assert device.streams() == []


def test_device_updates_values_and_export(client, device):
    device.create_stream("temperature")
    device.create_stream("humidity")
    device.post_update(timestamp="2015-04-21T03:36:42.347Z", values={"temperature": 30, "humidity": 80})
    device.post_updates(values={"temperature": [{"timestamp": "2015-04-21T03:36:43.347109Z", "value": 31}],
                                "humidity": [{"timestamp": "2015-04-21T03:36:43.347109Z", "value": 81}]})
    rows = device.values()["values"]
    assert rows == [{"timestamp": "2015-04-21T03:36:43.347Z", "values": {"temperature": 31, "humidity": 81}},
                    {"timestamp": "2015-04-21T03:36:42.347Z", "values": {"temperature": 30, "humidity": 80}}]
    found = device.values_search(streams=["humidity"], conditions={"temperature": {"gt": 30}})
    assert found["values"] == [{"timestamp": "2015-04-21T03:36:43.347Z", "values": {"humidity": 81}}]
    export = device.values_export(streams="temperature")
    assert export.status == 202 and export.json == {"status": "accepted"}
    job = client.job(export.headers["Location"].rsplit("/", 1)[1])
    assert job.state == "complete" and job.result["url"].endswith(".csv")


def test_location_workflow(device):
    device.update_location(name="Storage Room", latitude="-32.8836", longitude=-56.1819, elevation=5,
                           timestamp="2015-04-20T21:54:14.311Z")
    device.update_location(latitude=1, longitude=2, timestamp="2015-04-20T21:55:00Z")
    location = device.location()
    assert (location["latitude"], location["longitude"], location["timestamp"]) == (1, 2, "2015-04-20T21:55:00.000Z")
    history = device.location_history(limit=10)["waypoints"]
    assert [point["name"] for point in history] == [None, "Storage Room"]
    # delete_location_history(**values) hands its keywords to requests: the body goes in data=.
    device.delete_location_history(data={"from": "2015-04-20T21:55:00Z", "end": "2015-04-20T21:55:00Z"})
    assert [point["name"] for point in device.location_history()["waypoints"]] == ["Storage Room"]


def test_keys_workflow(client, device, m2x_server):
    key = client.create_key(name="Key", permissions=["DELETE", "GET", "POST", "PUT"])
    assert client.key(key.key).name == "Key"
    assert key.key in [item.key for item in client.keys()]
    Key.item_update(client.api, key.key, name="Key2", permissions=["GET", "POST", "PUT"])
    assert client.key(key.key).permissions == ["GET", "POST", "PUT"]
    old = key.key
    key.regenerate()
    assert key.key != old
    assert http_status(M2XClient(key=old, endpoint=m2x_server.url).devices) == 401
    assert M2XClient(key=key.key, endpoint=m2x_server.url).devices()[0].id == device.id
    device_key = device.create_key(name="reader", permissions=["GET"])
    assert device_key.device.endswith(device.id) and device_key.master is False
    assert [item.key for item in device.keys()] == [device.key, device_key.key]
    reader = M2XClient(key=device_key.key, endpoint=m2x_server.url)
    assert reader.device(device.id).name == device.name
    assert http_status(reader.devices) == 403
    client.delete(Key.item_path(key.key))
    assert http_status(client.key, key.key) == 404


def test_distributions_workflow(client):
    distribution = client.create_distribution(name="Distribution", description="Distribution description",
                                              visibility="public")
    assert client.distribution(distribution.id).description == "Distribution description"
    added = distribution.add_device({"serial": "serial1"})  # takes a dict, against its documentation
    assert added.serial == "serial1" and added.distribution_name == "Distribution"
    assert [item.id for item in distribution.devices()] == [added.id]
    distribution.update(name="Distribution2", description="Distribution2 description", visibility="private")
    assert client.distributions()[0].name == "Distribution2"
    distribution.update_metadata({"model": "x1"})
    assert distribution.read_metadata_field("model") == {"value": "x1"}
    distribution.remove()
    assert client.distributions() == []


def test_collections_workflow(client, device):
    parent = client.create_collection(name="Parent")
    child = client.create_collection(name="Child", parent=parent.id, tags=["a"])
    child.add_device(device.id)
    assert [item.id for item in child.devices()] == [device.id]
    assert client.collection(child.id)["devices"] == 1
    assert [item.name for item in client.collections(parent=parent.id)] == ["Child"]
    child.update(name="Renamed")
    assert client.collection(child.id).name == "Renamed"
    child.remove_device(device.id)
    assert child.devices() == []
    parent.remove()
    assert client.collections() == []


def test_metadata_workflow(client, device):
    device.update_metadata({"owner": "ann", "floor": 2})
    device.update_metadata_field("floor", 3)
    assert device.read_metadata() == {"owner": "ann", "floor": 3}
    assert device.read_metadata_field("owner") == {"value": "ann"}
    collection = client.create_collection(name="c")
    collection.update_metadata({"site": "north"})
    assert collection.read_metadata() == {"site": "north"}


def test_commands_workflow(client, device):
    client.send_command(name="CHECK_UPDATES", data={"version": 2}, targets={"devices": [device.id]})
    command_id = client.last_response.headers["Location"].rsplit("/", 1)[1]
    client.send_command(name="REBOOT", targets={"devices": [device.id]})
    second_id = client.last_response.headers["Location"].rsplit("/", 1)[1]
    assert [command.name for command in client.commands()] == ["CHECK_UPDATES", "REBOOT"]
    assert client.command(command_id)["data"] == {"version": 2}
    assert [item["id"] for item in device.commands(status="pending")["commands"]] == [command_id, second_id]
    assert device.command(command_id)["data"] == {"version": 2}
    device.process_command(command_id, result="done")
    device.reject_command(second_id, reason="busy")
    assert device.command(command_id)["response_data"] == {"result": "done"}
    assert client.command(second_id).status_counts == {"pending": 0, "processed": 0, "rejected": 1}
    assert http_status(device.process_command, command_id) == 422


def test_device_log(client, device):
    device.create_stream("temperature")
    entries = device.log()["requests"]
    assert entries[0]["http_method"] == "PUT" and entries[0]["path"].endswith("/streams/temperature")
