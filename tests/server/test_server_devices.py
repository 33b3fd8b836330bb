"""Devices: create, read, update, delete, list, search, catalog, tags, serial, metadata, log."""

import re
import time

ID_RE = re.compile(r"^[0-9a-f]{32}$")
TIMESTAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_create_device_answers_201_with_location_and_the_device(api, m2x_server):
    response = api.call("POST", "/devices", 201, json={"name": "Foo Bar", "visibility": "public"})
    device = response.json()
    assert ID_RE.match(device["id"]) and ID_RE.match(device["key"])
    assert response.headers["Location"] == device["url"] == m2x_server.url + "/v2/devices/" + device["id"]
    assert device["name"] == "Foo Bar" and device["visibility"] == "public" and device["status"] == "enabled"
    assert (device["serial"], device["description"], device["tags"], device["location"]) == (None, None, [], {})
    assert device["streams"] == {"count": 0, "url": device["url"] + "/streams"}
    assert all(TIMESTAMP_RE.match(device[field]) for field in ("created", "updated", "last_activity"))
    assert api.get("/devices/" + device["id"])["name"] == "Foo Bar"


def test_create_device_stores_the_optional_fields(api):
    device = api.device("d", description="hall", tags=["a", "b"], serial="sn-1", metadata={"floor": 2})
    assert (device["description"], device["tags"], device["serial"]) == ("hall", ["a", "b"], "sn-1")
    assert api.get("/devices/%s/metadata" % device["id"]) == {"floor": 2}


def test_create_device_needs_name_and_visibility(api):
    response = api.call("POST", "/devices", 422, json={"description": "no name"})
    assert response.json() == {
        "message": "Validation Failed",
        "errors": {"name": ["not_present"], "visibility": ["not_present"]},
    }
    errors = api.call("POST", "/devices", 422, json={"name": "x", "visibility": "secret"}).json()["errors"]
    assert list(errors) == ["visibility"]


def test_create_device_rejects_wrong_types(api):
    body = {"name": "x", "visibility": "public", "tags": 5, "metadata": "m", "description": ["d"]}
    errors = api.call("POST", "/devices", 422, json=body).json()["errors"]
    assert errors == {
        "tags": ["not_a_list_of_strings"],
        "metadata": ["not_an_object"],
        "description": ["not_a_string"],
    }


def test_serial_is_unique_in_the_account(api):
    api.device("one", serial="sn-1")
    errors = api.call("POST", "/devices", 422, json={"name": "two", "visibility": "public", "serial": "sn-1"}).json()
    assert errors["errors"] == {"serial": ["taken"]}


def test_an_empty_serial_is_unique_too(api):
    api.device("one", serial="")
    errors = api.call("POST", "/devices", 422, json={"name": "two", "visibility": "public", "serial": ""}).json()
    assert errors["errors"] == {"serial": ["taken"]}  # was a 500 from the UNIQUE constraint


def test_unknown_device_is_404_with_the_recorded_message(api):
    response = api.call("GET", "/devices/" + "0" * 32, 404)
    assert response.json() == {"message": "The specified device does not exist"}


def test_update_device_changes_named_fields_and_keeps_the_others(api):
    device = api.device("old", description="kept", tags=["t"])
    api.call("PUT", "/devices/" + device["id"], 204, json={"name": "new", "visibility": "public"})
    updated = api.get("/devices/" + device["id"])
    assert (updated["name"], updated["visibility"], updated["description"], updated["tags"]) == (
        "new", "public", "kept", ["t"])
    assert updated["updated"] >= device["updated"]


def test_update_with_null_tags_clears_them_to_an_empty_list(api):
    device = api.device("d", tags=["t"])
    api.call("PUT", "/devices/" + device["id"], 204, json={"name": "d", "visibility": "private", "tags": None})
    assert api.get("/devices/" + device["id"])["tags"] == []
    assert api.get("/devices/tags") == {"tags": {}}


def test_update_device_needs_name_and_visibility(api):
    device = api.device()
    errors = api.call("PUT", "/devices/" + device["id"], 422, json={"description": "x"}).json()["errors"]
    assert errors == {"name": ["not_present"], "visibility": ["not_present"]}


def test_update_device_status(api):
    device = api.device()
    api.call("PUT", "/devices/" + device["id"], 204, json={"name": "d", "visibility": "private", "status": "disabled"})
    assert api.get("/devices/" + device["id"])["status"] == "disabled"
    api.call("PUT", "/devices/" + device["id"], 422, json={"name": "d", "visibility": "private", "status": "off"})


def test_delete_device_removes_it_with_its_keys(api):
    device = api.device()
    api.stream(device["id"])
    api.call("DELETE", "/devices/" + device["id"], 204)
    api.call("GET", "/devices/" + device["id"], 404)
    api.call("GET", "/devices/%s/streams" % device["id"], 401, key=device["key"])


def test_list_devices_paginates_with_fields_and_link_headers(api, m2x_server):
    ids = [api.device("d%d" % number)["id"] for number in range(3)]
    first = api.call("GET", "/devices", 200, params={"limit": 2})
    body = first.json()
    assert (body["total"], body["pages"], body["limit"], body["current_page"]) == (3, 2, 2, 1)
    assert [device["id"] for device in body["devices"]] == ids[:2]
    links = first.headers["Link"]
    assert '<%s/v2/devices?limit=2&page=1>; rel="first"' % m2x_server.url in links
    assert '<%s/v2/devices?limit=2&page=2>; rel="last"' % m2x_server.url in links
    assert '<%s/v2/devices?limit=2&page=2>; rel="next"' % m2x_server.url in links
    second = api.call("GET", "/devices", 200, params={"limit": 2, "page": 2})
    assert [device["id"] for device in second.json()["devices"]] == ids[2:]
    assert 'rel="next"' not in second.headers["Link"]


def test_list_limit_is_clamped_to_100_and_checked(api):
    api.device()
    assert api.get("/devices", params={"limit": 500})["limit"] == 100
    assert api.get("/devices")["limit"] == 100
    errors = api.call("GET", "/devices", 422, params={"limit": "ten", "page": 0}).json()["errors"]
    assert errors == {"limit": ["not_an_integer"], "page": ["must be at least 1"]}


def test_list_limit_is_ascii_digits_that_int_can_convert(api):
    # "\uff13" is a full-width 3; 5000 digits are beyond int()'s limit (was a 500).
    for limit in ("\uff13", "1" * 5000):
        errors = api.call("GET", "/devices", 422, params={"limit": limit}).json()["errors"]
        assert errors == {"limit": ["not_an_integer"]}


def test_list_sorts_by_name_and_direction(api):
    for name in ("b", "C", "a"):
        api.device(name)
    names = [device["name"] for device in api.get("/devices", params={"sort": "name", "dir": "desc"})["devices"]]
    assert names == ["C", "b", "a"]
    api.call("GET", "/devices", 422, params={"sort": "colour"})


def search(api, expect=200, **params):
    return [device["name"] for device in api.get("/devices/search", expect, params=params)["devices"]]


def test_search_by_query_parameters(api):
    api.device("kitchen sensor", description="near the oven", tags=["home", "heat"], serial="k1")
    api.device("garage door", visibility="public", tags=["home"], serial="g1")
    assert search(api, name="KITCHEN") == ["kitchen sensor"]
    assert search(api, q="oven") == ["kitchen sensor"]
    assert search(api, tags="home,heat") == ["kitchen sensor"]
    assert search(api, tags="home") == ["kitchen sensor", "garage door"]
    assert search(api, serial="g1") == ["garage door"]
    assert search(api, visibility="public") == ["garage door"]
    assert search(api, status="enabled") == ["kitchen sensor", "garage door"]
    assert search(api, modified_since="2000-01-01T00:00:00Z") == ["kitchen sensor", "garage door"]
    assert search(api, unmodified_since="2000-01-01T00:00:00Z") == []
    api.call("GET", "/devices/search", 400, params={"modified_since": "yesterday"})


def test_search_by_ids_and_collection(api):
    first, second = api.device("first"), api.device("second")
    assert search(api, ids="%s,%s" % (first["id"], "f" * 32)) == ["first"]
    parent = api.call("POST", "/collections", 201, json={"name": "parent"}).json()
    child = api.call("POST", "/collections", 201, json={"name": "child", "parent": parent["id"]}).json()
    api.call("PUT", "/collections/%s/devices/%s" % (child["id"], second["id"]), 204)
    assert search(api, collection=parent["id"]) == ["second"]


def test_search_with_json_body_filters(api):
    near = api.device("near", metadata={"owner": "ann", "floor": 3})
    far = api.device("far", metadata={"owner": "bob", "floor": 1})
    for device, temperature, latitude in ((near, 25, 48.8584), (far, 15, 40.0)):
        api.stream(device["id"])
        api.put_value(device["id"], "temperature", temperature)
        api.call("PUT", "/devices/%s/location" % device["id"], 202, json={"latitude": latitude, "longitude": 2.2945})

    def body_search(body):
        return [device["name"] for device in api.get("/devices/search", json=body)["devices"]]

    assert body_search({"streams": {"temperature": {"gt": 20}}}) == ["near"]
    assert body_search({"streams": {"temperature": {}}}) == ["near", "far"]
    assert body_search({"streams": {"humidity": {}}}) == []
    assert body_search({"metadata": {"owner": "bob"}}) == ["far"]
    assert body_search({"metadata": {"floor": {"gte": 2}}}) == ["near"]
    circle = {"center": {"latitude": 48.86, "longitude": 2.29}, "radius": {"km": 5}}
    assert body_search({"location": {"within_circle": circle}}) == ["near"]
    errors = api.call("GET", "/devices/search", 422, json={"location": {"near": 1}}).json()["errors"]
    assert list(errors) == ["location"]
    errors = api.call("POST", "/devices/search", 422, json={"streams": {"temperature": {"above": 1}}}).json()
    assert "unknown operator" in errors["errors"]["streams"][0]


def test_catalog_lists_public_devices_without_a_key_and_without_their_keys(api):
    api.device("public one", visibility="public")
    api.device("private one")
    body = api.get("/devices/catalog", key=None)
    assert [device["name"] for device in body["devices"]] == ["public one"]
    assert "key" not in body["devices"][0]
    assert (body["total"], body["pages"], body["current_page"]) == (1, 1, 1)
    assert api.get("/devices/catalog", key=None, params={"page": 2})["devices"] == []


def test_device_tags_counts_devices_per_tag(api):
    api.device("a", tags=["foo", "bar"])
    api.device("b", tags="bar")  # a comma-separated string, as m2x-python sends tags
    api.device("c")
    assert api.get("/devices/tags") == {"tags": {"bar": 2, "foo": 1}}


def test_device_addressed_by_serial(api):
    device = api.device("by serial", serial="SN 42/x")
    api.stream(device["id"])
    assert api.get("/devices/serial/SN%2042%2Fx")["id"] == device["id"]
    api.put_value(device["id"], "temperature", 1)
    assert api.get("/devices/serial/SN%2042%2Fx/streams/temperature")["value"] == 1
    assert api.call("GET", "/devices/serial/nope", 404).json()["message"] == "The specified device does not exist"
    api.call("GET", "/devices/serial/nope", 401, key=None)
    api.call("GET", "/devices/serial/SN%2042%2Fx", 401, key=None)


def test_metadata_read_update_and_fields(api):
    device = api.device(metadata={"a": 1})
    base = "/devices/%s/metadata" % device["id"]
    api.call("PUT", base, 204, json={"b": "two", "c": {"nested": True}})
    assert api.get(base) == {"a": 1, "b": "two", "c": {"nested": True}}
    assert api.get(base + "/b") == {"value": "two"}
    api.call("PUT", base + "/a", 204, json={"value": 10})
    assert api.get(base + "/a") == {"value": 10}
    assert api.call("GET", base + "/missing", 404).json()["message"] == (
        "The specified metadata field does not exist")
    assert api.call("PUT", base + "/a", 422, json={}).json()["errors"] == {"value": ["not_present"]}


def test_request_log_lists_the_device_requests_newest_first(api):
    device = api.device()
    path = "/devices/" + device["id"]
    api.stream(device["id"])
    api.call("GET", path + "/streams/nope", 404)
    api.call("GET", path + "/streams", 200, key=device["key"])
    api.call("GET", path + "/streams", 401, key="bad-key")
    entries = api.get(path + "/log")["requests"]
    assert [(entry["http_method"], entry["path"], entry["status"]) for entry in entries] == [
        ("GET", path + "/streams", 200),
        ("GET", path + "/streams/nope", 404),
        ("PUT", path + "/streams/temperature", 201),
    ]
    assert all(TIMESTAMP_RE.match(entry["timestamp"]) for entry in entries)


def test_request_log_keeps_the_newest_100(api, m2x_server):
    device = api.device()
    for number in range(105):
        api.call("GET", "/devices/%s/streams/s%d" % (device["id"], number), 404)
    entries = api.get("/devices/%s/log" % device["id"])["requests"]
    assert len(entries) == 100
    assert entries[0]["path"].endswith("/streams/s104") and entries[-1]["path"].endswith("/streams/s5")


def test_last_activity_follows_the_device_requests(api):
    device = api.device()
    time.sleep(0.01)
    api.stream(device["id"])
    api.put_value(device["id"], "temperature", 1)
    assert api.get("/devices/" + device["id"])["last_activity"] > device["last_activity"]
