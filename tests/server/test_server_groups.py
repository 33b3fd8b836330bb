"""Distributions and collections."""

import re

DISTRIBUTION_FIELDS = {"id", "name", "description", "visibility", "serial", "status", "url", "key", "created",
                       "updated", "devices", "tags"}
COLLECTION_FIELDS = {"id", "parent", "name", "description", "devices", "collections", "tags", "metadata", "key",
                     "created", "updated"}


def create_distribution(api, name="fleet", **fields):
    return api.call("POST", "/distributions", 201, json=dict(fields, name=name, visibility="private")).json()


def create_collection(api, name="group", **fields):
    return api.call("POST", "/collections", 201, json=dict(fields, name=name)).json()


def test_create_distribution_answers_201_with_the_distribution(api, m2x_server):
    response = api.call("POST", "/distributions", 201, json={"name": "FooBar", "visibility": "private"})
    distribution = response.json()
    assert set(distribution) == DISTRIBUTION_FIELDS
    assert response.headers["Location"] == distribution["url"]
    assert distribution["url"] == m2x_server.url + "/v2/distributions/" + distribution["id"]
    assert re.match(r"^[0-9a-f]{32}$", distribution["id"]) and re.match(r"^[0-9a-f]{32}$", distribution["key"])
    assert distribution["devices"] == {"total": 0, "registered": 0, "unregistered": 0}
    assert (distribution["status"], distribution["serial"], distribution["tags"]) == ("enabled", None, [])
    assert api.get("/distributions/" + distribution["id"]) == distribution


def test_create_distribution_needs_name_and_visibility(api):
    assert api.call("POST", "/distributions", 422, json={}).json()["errors"] == {
        "name": ["not_present"], "visibility": ["not_present"]}


def test_list_distributions_paginated(api):
    for name in ("a", "b", "c"):
        create_distribution(api, name)
    body = api.get("/distributions", params={"limit": 2, "page": 2})
    assert [item["name"] for item in body["distributions"]] == ["c"]
    assert (body["total"], body["pages"], body["current_page"], body["limit"]) == (3, 2, 2, 2)


def test_update_and_delete_distribution(api):
    distribution = create_distribution(api, description="kept")
    path = "/distributions/" + distribution["id"]
    api.call("PUT", path, 204, json={"name": "renamed", "visibility": "public"})
    assert (api.get(path)["name"], api.get(path)["description"]) == ("renamed", "kept")
    assert api.call("PUT", path, 422, json={"name": "x"}).json()["errors"] == {"visibility": ["not_present"]}
    api.call("DELETE", path, 204)
    assert api.call("GET", path, 404).json() == {"message": "The specified distribution does not exist"}


def test_add_device_to_distribution(api, m2x_server):
    distribution = create_distribution(api, "Test Distribution", description="Foo Bar")
    path = "/distributions/%s/devices" % distribution["id"]
    response = api.call("POST", path, 201, json={"serial": "foobar"})
    device = response.json()
    assert response.headers["Location"] == m2x_server.url + "/v2/devices/" + device["id"]
    assert (device["serial"], device["name"], device["description"], device["visibility"]) == (
        "foobar", "Test Distribution", "Foo Bar", "private")
    assert device["distribution"] == distribution["url"] and device["distribution_name"] == "Test Distribution"
    named = api.call("POST", path, 201, json={"serial": "second", "name": "own name"}).json()
    assert named["name"] == "own name"
    listed = api.get(path)
    assert [item["id"] for item in listed["devices"]] == [device["id"], named["id"]] and listed["total"] == 2
    assert api.get("/distributions/" + distribution["id"])["devices"] == {
        "total": 2, "registered": 2, "unregistered": 0}


def test_add_device_to_distribution_needs_a_new_serial(api):
    distribution = create_distribution(api)
    path = "/distributions/%s/devices" % distribution["id"]
    assert api.call("POST", path, 422, json={}).json()["errors"] == {"serial": ["not_present"]}
    assert api.call("POST", path, 422, json={"serial": " "}).json()["errors"] == {"serial": ["not_present"]}
    assert api.call("POST", path, 422, json={"serial": ["s1"]}).json()["errors"] == {"serial": ["not_a_string"]}
    api.call("POST", path, 201, json={"serial": "s1"})
    assert api.call("POST", path, 422, json={"serial": "s1"}).json()["errors"] == {"serial": ["taken"]}


def test_deleting_a_distribution_keeps_its_devices(api):
    distribution = create_distribution(api)
    device = api.call("POST", "/distributions/%s/devices" % distribution["id"], 201, json={"serial": "s"}).json()
    api.call("DELETE", "/distributions/" + distribution["id"], 204)
    kept = api.get("/devices/" + device["id"])
    assert "distribution" not in kept
    api.call("GET", "/devices/" + device["id"], 401, key=distribution["key"])


def test_distribution_metadata(api):
    distribution = create_distribution(api, metadata={"model": "x1"})
    path = "/distributions/%s/metadata" % distribution["id"]
    api.call("PUT", path + "/color", 204, json={"value": "red"})
    assert api.get(path) == {"model": "x1", "color": "red"}
    assert api.get(path + "/model", key=distribution["key"]) == {"value": "x1"}
    api.call("PUT", path, 403, key=distribution["key"], json={"a": 1})


def test_create_collection_answers_201_with_the_collection(api, m2x_server):
    response = api.call("POST", "/collections", 201, json={"name": "Test Collection", "tags": ["a"]})
    collection = response.json()
    assert set(collection) == COLLECTION_FIELDS
    assert response.headers["Location"] == m2x_server.url + "/v2/collections/" + collection["id"]
    assert (collection["parent"], collection["devices"], collection["collections"], collection["tags"],
            collection["metadata"], collection["description"]) == (None, 0, 0, ["a"], {}, None)
    assert api.get("/collections/" + collection["id"]) == collection
    assert api.call("POST", "/collections", 422, json={}).json()["errors"] == {"name": ["not_present"]}


def test_collections_form_a_tree(api):
    parent = create_collection(api, "Parent Collection")
    first = create_collection(api, "First Child", parent=parent["id"])
    create_collection(api, "Second Child", parent=parent["id"])
    assert api.get("/collections/" + parent["id"])["collections"] == 2
    children = api.get("/collections", params={"parent": parent["id"]})["collections"]
    assert [item["name"] for item in children] == ["First Child", "Second Child"]
    assert children[0]["parent"] == parent["id"]
    assert len(api.get("/collections")["collections"]) == 3
    for unknown in ("0" * 32, ""):  # "" was a 500 from the foreign key
        errors = api.call("POST", "/collections", 422, json={"name": "x", "parent": unknown}).json()["errors"]
        assert errors == {"parent": ["not_found"]}
        errors = api.call("PUT", "/collections/" + first["id"], 422, json={"parent": unknown}).json()["errors"]
        assert errors == {"parent": ["not_found"]}
    errors = api.call("PUT", "/collections/" + parent["id"], 422, json={"parent": first["id"]}).json()["errors"]
    assert errors == {"parent": ["would make a cycle"]}


def test_list_collections_by_name_and_tags(api):
    create_collection(api, "Foo Collection", tags=["bar", "foo"])
    create_collection(api, "Bar Collection")
    assert [item["name"] for item in api.get("/collections", params={"name": "foo"})["collections"]] == [
        "Foo Collection"]
    assert [item["name"] for item in api.get("/collections", params={"tags": "foo"})["collections"]] == [
        "Foo Collection"]
    assert api.get("/collections", params={"tags": "nope"}) == {"collections": []}


def test_update_collection_changes_named_fields(api):
    collection = create_collection(api, description="kept")
    path = "/collections/" + collection["id"]
    api.call("PUT", path, 204, json={"name": "renamed"})
    assert (api.get(path)["name"], api.get(path)["description"]) == ("renamed", "kept")
    api.call("PUT", path, 204, json={"tags": None})
    assert api.get(path)["tags"] == []
    for blank in ("", " ", None):
        errors = api.call("PUT", path, 422, json={"name": blank}).json()["errors"]
        assert errors == {"name": ["not_present"]}
    assert api.get(path)["name"] == "renamed"


def test_collection_devices_add_list_remove(api):
    collection = create_collection(api)
    device = api.device("member")
    path = "/collections/%s/devices/%s" % (collection["id"], device["id"])
    assert api.call("PUT", path, 204).content == b""
    api.call("PUT", path, 204)
    listed = api.get("/collections/%s/devices" % collection["id"])
    assert [item["id"] for item in listed["devices"]] == [device["id"]] and listed["total"] == 1
    assert api.get("/collections/" + collection["id"])["devices"] == 1
    api.call("DELETE", path, 204)
    assert api.get("/collections/%s/devices" % collection["id"])["devices"] == []
    assert api.call("PUT", "/collections/%s/devices/%s" % (collection["id"], "0" * 32), 404).json() == {
        "message": "The specified device does not exist"}


def test_delete_collection_takes_its_subcollections_but_not_devices(api):
    parent = create_collection(api, "parent")
    child = create_collection(api, "child", parent=parent["id"])
    device = api.device()
    api.call("PUT", "/collections/%s/devices/%s" % (child["id"], device["id"]), 204)
    api.call("DELETE", "/collections/" + parent["id"], 204)
    assert api.call("GET", "/collections/" + child["id"], 404).json() == {
        "message": "The specified collection does not exist"}
    api.get("/devices/" + device["id"])


def test_collection_metadata(api):
    collection = create_collection(api, metadata={"site": "north"})
    path = "/collections/%s/metadata" % collection["id"]
    api.call("PUT", path, 204, json={"floor": 1})
    assert api.get(path) == {"site": "north", "floor": 1}
    assert api.get("/collections/" + collection["id"])["metadata"] == {"site": "north", "floor": 1}
