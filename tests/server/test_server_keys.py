"""Keys (spec section 6): the keys API and who may do what (401 / 403)."""

import pytest

from m2x_server_helpers import at

KEY_FIELDS = {"name", "key", "master", "device", "distribution", "collection", "stream", "expires_at", "expired",
              "origin", "device_access", "permissions"}


@pytest.fixture
def device(api):
    device = api.device("mine")
    api.stream(device["id"], "temperature")
    api.stream(device["id"], "humidity")
    return device


def test_create_key_answers_201_with_location_and_the_key(api, m2x_server):
    response = api.call("POST", "/keys", 201, json={"name": "Test Key", "permissions": ["GET"]})
    key = response.json()
    assert response.headers["Location"] == m2x_server.url + "/v2/keys/" + key["key"]
    assert set(key) == KEY_FIELDS
    assert (key["name"], key["master"], key["permissions"], key["device_access"]) == ("Test Key", True, ["GET"],
                                                                                      "public")
    assert (key["device"], key["stream"], key["expires_at"], key["expired"], key["origin"]) == (
        None, None, None, False, None)
    assert api.get("/keys/" + key["key"]) == key


def test_create_key_needs_permissions_as_recorded(api):
    response = api.call("POST", "/keys", 422, json={"name": "k"})
    assert response.json() == {"message": "Validation Failed", "errors": {"permissions": ["not_present"]}}
    errors = api.call("POST", "/keys", 422, json={"name": "k", "permissions": ["GET", "PATCH"]}).json()["errors"]
    assert list(errors) == ["permissions"]
    errors = api.call("POST", "/keys", 422, json={"permissions": ["GET"], "device": "0" * 32}).json()["errors"]
    assert errors == {"name": ["not_present"], "device": ["not_found"]}
    api.call("POST", "/keys", 400, json={"name": "k", "permissions": ["GET"], "expires_at": "tomorrow"})


@pytest.mark.parametrize("scope", ["device", "distribution", "collection"])
def test_an_empty_scope_is_refused_not_made_a_master_key(api, scope):
    errors = api.call("POST", "/keys", 422, json={"name": "k", "permissions": ["GET"], scope: ""}).json()["errors"]
    assert errors == {scope: ["not_found"]}
    assert [key["name"] for key in api.get("/keys")["keys"]] == ["Master Key"]


def test_device_key_with_a_stream(api, device):
    key = api.key(device=device["id"], stream="temperature")
    assert (key["master"], key["device"], key["stream"]) == (False, api.server.url + "/v2/devices/" + device["id"],
                                                             "temperature")
    errors = api.call("POST", "/keys", 422, json={"name": "k", "permissions": ["GET"], "device": device["id"],
                                                  "stream": "wind"}).json()["errors"]
    assert errors == {"stream": ["not_found"]}
    errors = api.call("POST", "/keys", 422, json={"name": "k", "permissions": ["GET"], "stream": "t"}).json()
    assert errors["errors"] == {"stream": ["needs a device"]}


def test_list_keys_without_filter_gives_master_keys(api, device, m2x_server):
    created = api.key(name="second master")
    api.key(name="device key", device=device["id"])
    keys = api.get("/keys")["keys"]
    assert [key["key"] for key in keys] == [m2x_server.master_key, created["key"]]
    assert keys[0]["name"] == "Master Key" and keys[0]["permissions"] == ["DELETE", "GET", "POST", "PUT"]


def test_list_keys_of_a_device(api, device):
    extra = api.key(name="device key", device=device["id"], permissions=["GET"])
    keys = api.get("/keys", params={"device": device["id"]})["keys"]
    assert [key["key"] for key in keys] == [device["key"], extra["key"]]
    assert keys[0]["name"] == "Primary Key" and keys[0]["master"] is False


def test_update_key_changes_named_fields(api):
    key = api.key(name="before", permissions=["GET"], origin="127.0.0.1")
    api.call("PUT", "/keys/" + key["key"], 204, json={"name": "after", "permissions": ["GET", "POST"]})
    updated = api.get("/keys/" + key["key"])
    assert (updated["name"], updated["permissions"], updated["origin"]) == ("after", ["GET", "POST"], "127.0.0.1")
    errors = api.call("PUT", "/keys/" + key["key"], 422, json={"name": "x"}).json()["errors"]
    assert errors == {"permissions": ["not_present"]}


def test_delete_key_stops_it_working(api):
    key = api.key()
    api.call("DELETE", "/keys/" + key["key"], 204)
    api.call("GET", "/keys/" + key["key"], 404)
    api.call("GET", "/devices", 401, key=key["key"])


def test_regenerate_gives_a_new_key_and_the_old_one_stops_working(api, m2x_server):
    key = api.key(name="Test Bar", permissions=["GET"])
    response = api.call("POST", "/keys/%s/regenerate" % key["key"], 201)
    new = response.json()
    assert new["key"] != key["key"] and new["name"] == "Test Bar"
    assert response.headers["Location"] == m2x_server.url + "/v2/keys/" + new["key"]
    api.call("GET", "/devices", 401, key=key["key"])
    api.call("GET", "/devices", 200, key=new["key"])


def test_regenerating_a_device_key_changes_the_device_key_field(api, device):
    new = api.call("POST", "/keys/%s/regenerate" % device["key"], 201).json()
    assert api.get("/devices/" + device["id"])["key"] == new["key"]
    api.call("GET", "/devices/" + device["id"], 401, key=device["key"])
    api.call("GET", "/devices/" + device["id"], 200, key=new["key"])


def test_primary_keys_can_be_regenerated_but_not_updated_or_deleted(api, device, m2x_server):
    old_master = m2x_server.master_key
    for primary in (old_master, device["key"]):
        api.call("PUT", "/keys/" + primary, 403, json={"name": "x", "permissions": ["GET"]})
        api.call("DELETE", "/keys/" + primary, 403)
    new_master = api.call("POST", "/keys/%s/regenerate" % old_master, 201).json()["key"]
    api.call("GET", "/devices", 401, key=old_master)
    api.call("GET", "/devices", 200, key=new_master)
    assert m2x_server.server.master_key == new_master


def test_missing_or_unknown_key_is_401(api):
    assert api.call("GET", "/devices", 401, key=None).json()["message"]
    assert api.call("GET", "/devices", 401, key="0123456789abcdef0123456789abcdef").json()["message"]
    api.call("GET", "/time", 401, key=None)


def test_status_and_catalog_need_no_key(api):
    api.call("GET", "/status", 200, key=None)
    api.call("GET", "/devices/catalog", 200, key=None)
    api.call("GET", "/devices/catalog", 200, key="not-a-key")


def test_device_key_reaches_its_own_device(api, device):
    key = device["key"]
    path = "/devices/" + device["id"]
    api.call("GET", path, 200, key=key)
    api.call("GET", path + "/streams", 200, key=key)
    api.call("PUT", path + "/streams/pressure", 201, key=key, json={})
    api.put_value(device["id"], "temperature", 1, key=key)
    api.call("PUT", path + "/location", 202, key=key, json={"latitude": 1, "longitude": 2})
    api.call("PUT", path + "/metadata", 204, key=key, json={"a": 1})
    api.call("GET", path + "/log", 200, key=key)
    api.call("GET", path + "/commands", 200, key=key)
    api.call("GET", "/time", 200, key=key)


def test_device_key_on_another_device_is_403(api, device):
    other = api.device("other")
    response = api.call("GET", "/devices/" + other["id"], 403, key=device["key"])
    assert response.json()["message"] == "The API key cannot access this device"
    api.call("PUT", "/devices/%s/streams/t" % other["id"], 403, key=device["key"], json={})


@pytest.mark.parametrize("method, path", [
    ("GET", "/devices"), ("POST", "/devices"), ("GET", "/devices/search"), ("GET", "/devices/tags"),
    ("GET", "/keys"), ("POST", "/keys"), ("GET", "/distributions"), ("GET", "/collections"),
    ("GET", "/commands"), ("POST", "/commands"), ("GET", "/jobs"),
    ("PUT", "/devices/{id}"), ("DELETE", "/devices/{id}"), ("GET", "/keys/{key}"),
])
def test_device_key_on_master_only_endpoints_is_403(api, device, method, path):
    path = path.format(id=device["id"], key=device["key"])
    response = api.call(method, path, 403, key=device["key"], json={"name": "x", "visibility": "public"})
    assert response.json()["message"] == "This request needs a master key"


def test_key_permissions_limit_the_verbs(api, device):
    reader = api.key(permissions=["GET"], device=device["id"])
    api.call("GET", "/devices/%s/streams" % device["id"], 200, key=reader["key"])
    response = api.call("PUT", "/devices/%s/streams/temperature/value" % device["id"], 403, key=reader["key"],
                        json={"value": 1})
    assert response.json()["message"] == "The API key does not permit PUT requests"
    master_reader = api.key(permissions=["GET"])
    api.call("GET", "/devices", 200, key=master_reader["key"])
    api.call("POST", "/devices", 403, key=master_reader["key"], json={"name": "x", "visibility": "public"})


def test_expired_key_is_403_and_marked_expired(api):
    old = api.key(expires_at="2020-01-01T00:00:00Z")
    assert old["expired"] is True and old["expires_at"] == "2020-01-01T00:00:00.000Z"
    assert api.call("GET", "/devices", 403, key=old["key"]).json()["message"] == "The API key has expired"
    valid = api.key(expires_at="2999-01-01T00:00:00Z")
    assert valid["expired"] is False
    api.call("GET", "/devices", 200, key=valid["key"])


def test_stream_limited_key_reaches_its_stream_only(api, device):
    key = api.key(device=device["id"], stream="temperature")["key"]
    path = "/devices/%s/streams/" % device["id"]
    api.put_value(device["id"], "temperature", 1, key=key)
    api.call("GET", path + "temperature/values", 200, key=key)
    api.call("GET", path + "humidity", 403, key=key)
    api.call("PUT", path + "humidity/value", 403, key=key, json={"value": 1})
    api.call("GET", "/devices/%s/values" % device["id"], 403, key=key)
    api.call("GET", "/devices/" + device["id"], 403, key=key)


def test_origin_limited_key(api):
    elsewhere = api.key(origin="203.0.113.9")
    assert api.call("GET", "/devices", 403, key=elsewhere["key"]).json()["message"] == (
        "The API key cannot be used from this origin")
    api.call("GET", "/devices", 200, key=elsewhere["key"], headers={"Origin": "203.0.113.9"})
    here = api.key(origin="127.0.0.1")
    api.call("GET", "/devices", 200, key=here["key"])


def test_collection_key_reaches_the_devices_of_its_subtree(api, device):
    outside = api.device("outside")
    parent = api.call("POST", "/collections", 201, json={"name": "parent"}).json()
    child = api.call("POST", "/collections", 201, json={"name": "child", "parent": parent["id"]}).json()
    api.call("PUT", "/collections/%s/devices/%s" % (child["id"], device["id"]), 204)
    key = parent["key"]
    api.put_value(device["id"], "temperature", 1, key=key)
    api.call("GET", "/devices/" + outside["id"], 403, key=key)
    api.call("GET", "/collections/" + child["id"], 200, key=key)
    api.call("GET", "/collections/%s/devices" % parent["id"], 200, key=key)
    api.call("GET", "/collections/" + parent["id"], 403, key=child["key"])
    api.call("PUT", "/collections/" + parent["id"], 403, key=key, json={"name": "x"})
    api.call("GET", "/devices", 403, key=key)


def test_distribution_key_reaches_and_registers_its_devices(api, device):
    distribution = api.call("POST", "/distributions", 201, json={"name": "fleet", "visibility": "private"}).json()
    key = distribution["key"]
    added = api.call("POST", "/distributions/%s/devices" % distribution["id"], 201, key=key,
                     json={"serial": "fleet-1"}).json()
    api.call("PUT", "/devices/%s/streams/t" % added["id"], 201, key=key, json={})
    api.call("GET", "/devices/" + device["id"], 403, key=key)
    api.call("GET", "/distributions/%s/devices" % distribution["id"], 200, key=key)
    api.call("PUT", "/distributions/" + distribution["id"], 403, key=key, json={"name": "x", "visibility": "public"})
    other = api.call("POST", "/distributions", 201, json={"name": "other", "visibility": "private"}).json()
    api.call("GET", "/distributions/" + other["id"], 403, key=key)


def test_key_for_a_collection_or_distribution(api):
    collection = api.call("POST", "/collections", 201, json={"name": "c"}).json()
    key = api.key(collection=collection["id"], permissions=["GET"])
    assert key["collection"] == api.server.url + "/v2/collections/" + collection["id"] and key["master"] is False
    listed = api.get("/keys", params={"collection": collection["id"]})["keys"]
    assert [item["key"] for item in listed] == [collection["key"], key["key"]]
    errors = api.call("POST", "/keys", 422, json={"name": "k", "permissions": ["GET"], "collection": collection["id"],
                                                  "distribution": "0" * 32}).json()["errors"]
    assert "collection" in errors


def test_expires_at_echoes_with_milliseconds(api):
    key = api.key(expires_at=at(1))
    assert key["expires_at"] == at(1)
