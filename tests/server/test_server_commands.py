"""Commands: sent by the account, listed, viewed, processed or rejected by each device."""

import pytest


@pytest.fixture
def devices(api):
    return api.device("one"), api.device("two")


def send(api, devices, name="CHECK_UPDATES", data=None):
    body = {"name": name, "data": data or {"version": 2}, "targets": {"devices": [d["id"] for d in devices]}}
    response = api.call("POST", "/commands", 202, json=body)
    assert response.json() == {"status": "accepted"}
    return response.headers["Location"].split("/v2/commands/")[1]


def test_send_command_answers_202_with_location(api, devices, m2x_server):
    body = {"name": "CHECK_UPDATES", "data": {"a": 1}, "targets": {"devices": [devices[0]["id"]]}}
    response = api.call("POST", "/commands", 202, json=body)
    command = api.get(response.headers["Location"].split("/v2", 1)[1])
    assert response.headers["Location"] == m2x_server.url + "/v2/commands/" + command["id"]
    assert (command["name"], command["data"], command["url"]) == ("CHECK_UPDATES", {"a": 1},
                                                                 response.headers["Location"])
    assert command["status_counts"] == {"pending": 1, "processed": 0, "rejected": 0}


def test_send_command_validation(api, devices):
    assert api.call("POST", "/commands", 422, json={}).json()["errors"] == {
        "name": ["not_present"], "targets": ["not_present"]}
    errors = api.call("POST", "/commands", 422, json={"name": "X", "targets": {"devices": ["0" * 32]}}).json()
    assert errors["errors"] == {"targets": ["device %s not found" % ("0" * 32)]}
    api.call("POST", "/commands", 422, json={"name": "X", "targets": {"devices": []}})
    assert api.get("/commands")["commands"] == []


def test_list_commands_with_counts_and_filters(api, devices):
    first = send(api, devices, "FIRST")
    send(api, devices[:1], "SECOND")
    body = api.get("/commands")
    assert [item["name"] for item in body["commands"]] == ["FIRST", "SECOND"]
    assert body["commands"][0]["status_counts"] == {"pending": 2, "processed": 0, "rejected": 0}
    assert set(body["commands"][0]) == {"id", "url", "name", "sent_at", "status_counts"}
    assert (body["total"], body["limit"], body["current_page"]) == (2, 100, 1)
    assert [item["id"] for item in api.get("/commands", params={"name": "FIRST"})["commands"]] == [first]
    assert [item["name"] for item in api.get("/commands", params={"dir": "desc"})["commands"]] == ["SECOND", "FIRST"]
    assert api.get("/commands", params={"limit": 5000})["limit"] == 1000
    api.call("GET", "/commands", 422, params={"limit": 0})


def test_device_sees_its_commands_and_processes_one(api, devices):
    device = devices[0]
    command_id = send(api, devices)
    base = "/devices/%s/commands" % device["id"]
    listed = api.get(base, key=device["key"])["commands"]
    assert [(item["id"], item["status"], item["received_at"]) for item in listed] == [(command_id, "pending", None)]
    viewed = api.get("%s/%s" % (base, command_id), key=device["key"])
    assert viewed["data"] == {"version": 2} and viewed["received_at"] is not None
    assert viewed["url"] == api.server.url + "/v2" + base + "/" + command_id
    api.call("POST", "%s/%s/process" % (base, command_id), 204, key=device["key"], json={"result": "ok"})
    done = api.get("%s/%s" % (base, command_id), key=device["key"])
    assert (done["status"], done["response_data"]) == ("processed", {"result": "ok"})
    assert done["processed_at"] is not None and done["rejected_at"] is None
    counts = api.get("/commands/" + command_id)["status_counts"]
    assert counts == {"pending": 1, "processed": 1, "rejected": 0}


def test_reject_and_the_422_for_a_finished_command(api, devices):
    device = devices[1]
    command_id = send(api, devices)
    path = "/devices/%s/commands/%s" % (device["id"], command_id)
    api.call("POST", path + "/reject", 204, key=device["key"])
    assert api.get(path, key=device["key"])["status"] == "rejected"
    for action in ("process", "reject"):
        response = api.call("POST", path + "/" + action, 422, key=device["key"])
        assert response.json()["errors"] == {"status": ["the command was already rejected"]}


def test_device_commands_filter_by_status(api, devices):
    device = devices[0]
    done, pending = send(api, devices, "DONE"), send(api, devices, "PENDING")
    api.call("POST", "/devices/%s/commands/%s/process" % (device["id"], done), 204)
    base = "/devices/%s/commands" % device["id"]
    assert [item["id"] for item in api.get(base, params={"status": "pending"})["commands"]] == [pending]
    assert [item["id"] for item in api.get(base, params={"status": "processed"})["commands"]] == [done]
    api.call("GET", base, 422, params={"status": "lost"})


def test_commands_of_other_devices_are_not_found(api, devices):
    command_id = send(api, devices[:1])
    other = devices[1]
    response = api.call("GET", "/devices/%s/commands/%s" % (other["id"], command_id), 404, key=other["key"])
    assert response.json() == {"message": "The specified command does not exist"}
    api.call("POST", "/devices/%s/commands/%s/process" % (other["id"], command_id), 404, key=other["key"])
    assert api.get("/devices/%s/commands" % other["id"], key=other["key"])["commands"] == []
    api.call("GET", "/commands/" + "0" * 32, 404)
