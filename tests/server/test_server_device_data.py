"""Device-level data: post_update(s), values, values search, export jobs, location."""

import pytest
import requests

from m2x_server_helpers import at


@pytest.fixture
def device(api):
    device = api.device()
    api.stream(device["id"], "temperature")
    api.stream(device["id"], "humidity")
    api.stream(device["id"], "state", type="alphanumeric")
    return device


def base(device):
    return "/devices/" + device["id"]


def test_post_update_writes_one_timestamp_for_every_stream_and_the_location(api, device):
    body = {"timestamp": at(1), "values": {"temperature": 30, "humidity": "80", "state": "on"},
            "location": {"latitude": 10.5, "longitude": "-20.25"}}
    assert api.call("POST", base(device) + "/update", 202, json=body).json() == {"status": "accepted"}
    for stream, value in (("temperature", 30), ("humidity", 80), ("state", "on")):
        assert api.values(device["id"], stream) == [{"timestamp": at(1), "value": value}]
    location = api.get(base(device) + "/location")
    assert (location["latitude"], location["longitude"], location["timestamp"]) == (10.5, -20.25, at(1))


def test_post_update_without_timestamp_uses_server_time(api, device):
    api.call("POST", base(device) + "/update", 202, json={"values": {"temperature": 1}})
    stored = api.values(device["id"], "temperature")
    assert len(stored) == 1 and stored[0]["timestamp"] > "2026-01-01"


def test_post_update_rejects_unknown_streams_and_bad_values_writing_nothing(api, device):
    body = {"timestamp": at(1), "values": {"temperature": 1, "wind": 2, "rain": 3}}
    assert api.call("POST", base(device) + "/update", 422, json=body).json() == {
        "message": "Validation Failed", "errors": {"wind": ["Stream not found"], "rain": ["Stream not found"]}}
    body = {"timestamp": at(1), "values": {"temperature": 1, "humidity": "damp"}}
    assert api.call("POST", base(device) + "/update", 422, json=body).json()["errors"] == {
        "humidity": ["not_numeric"]}
    body = {"timestamp": at(1), "values": {"temperature": 1}, "location": {"latitude": 91, "longitude": 0}}
    assert api.call("POST", base(device) + "/update", 422, json=body).json()["errors"] == {
        "latitude": ["out_of_range"]}
    api.call("POST", base(device) + "/update", 400, json={"timestamp": "noon", "values": {"temperature": 1}})
    assert api.call("POST", base(device) + "/update", 422, json={}).json()["errors"] == {"values": ["not_present"]}
    assert api.values(device["id"], "temperature") == []


def test_post_updates_writes_lists_per_stream(api, device):
    body = {"values": {
        "temperature": [{"timestamp": at(1), "value": 1}, {"timestamp": at(2), "value": "2.5"}],
        "state": [{"timestamp": at(1), "value": "off"}],
    }, "location": {"latitude": 1, "longitude": 2, "timestamp": at(2), "name": "lab", "elevation": 5}}
    api.call("POST", base(device) + "/updates", 202, json=body)
    assert [item["value"] for item in api.values(device["id"], "temperature")] == [2.5, 1]
    assert api.values(device["id"], "state") == [{"timestamp": at(1), "value": "off"}]
    waypoint = {"name": "lab", "latitude": 1.0, "longitude": 2.0, "elevation": 5.0, "timestamp": at(2)}
    assert api.get(base(device) + "/location") == dict(waypoint, waypoints=[waypoint])


def test_post_updates_errors_as_recorded_and_nothing_written(api, device):
    body = {"values": {"temperature": [{"timestamp": at(1), "value": 1}], "s1": [{"timestamp": at(1), "value": 1}]}}
    assert api.call("POST", base(device) + "/updates", 422, json=body).json() == {
        "message": "Validation Failed", "errors": {"s1": ["Stream not found"]}}
    body = {"values": {"temperature": [{"timestamp": at(1), "value": 1}], "humidity": [{"timestamp": at(1)}]}}
    assert api.call("POST", base(device) + "/updates", 422, json=body).json()["errors"] == {
        "humidity": ["value not_present"]}
    body = {"values": {"temperature": {"timestamp": at(1), "value": 1}}}
    assert list(api.call("POST", base(device) + "/updates", 422, json=body).json()["errors"]) == ["temperature"]
    assert api.values(device["id"], "temperature") == []


def write_rows(api, device):
    rows = [(1, {"temperature": 10, "humidity": 50}), (2, {"temperature": 20}), (3, {"humidity": 70, "state": "x"})]
    for second, values in rows:
        api.call("POST", base(device) + "/update", 202, json={"timestamp": at(second), "values": values})


def test_device_values_are_rows_per_timestamp_newest_first(api, device):
    write_rows(api, device)
    body = api.get(base(device) + "/values")
    assert body["values"] == [
        {"timestamp": at(3), "values": {"humidity": 70, "state": "x"}},
        {"timestamp": at(2), "values": {"temperature": 20}},
        {"timestamp": at(1), "values": {"temperature": 10, "humidity": 50}},
    ]
    assert body["limit"] == 100 and "end" in body
    picked = api.get(base(device) + "/values", params={"streams": "temperature", "limit": 1})
    assert picked["values"] == [{"timestamp": at(2), "values": {"temperature": 20}}]
    ranged = api.get(base(device) + "/values", params={"start": at(1), "end": at(1)})
    assert [row["timestamp"] for row in ranged["values"]] == [at(1)] and ranged["start"] == at(1)
    assert api.call("GET", base(device) + "/values", 422, params={"streams": "wind"}).json()["errors"] == {
        "wind": ["Stream not found"]}


def test_values_search_keeps_rows_meeting_every_condition(api, device):
    write_rows(api, device)
    body = {"streams": ["temperature", "humidity"], "conditions": {"temperature": {"gte": 10, "lt": 20}}}
    found = api.call("POST", base(device) + "/values/search", 200, json=body).json()
    assert found["values"] == [{"timestamp": at(1), "values": {"temperature": 10, "humidity": 50}}]
    by_get = api.get(base(device) + "/values/search", json={"conditions": {"state": {"eq": "x"}}})
    assert by_get["values"] == [{"timestamp": at(3), "values": {"humidity": 70, "state": "x"}}]
    errors = api.call("POST", base(device) + "/values/search", 422,
                      json={"conditions": {"temperature": {"near": 1}}}).json()["errors"]
    assert "unknown operator" in errors["conditions"][0]
    api.call("POST", base(device) + "/values/search", 422, json={"conditions": {"wind": {"gt": 1}}})


def test_values_export_makes_a_job_whose_csv_needs_no_key(api, device, m2x_server):
    write_rows(api, device)
    response = api.call("GET", base(device) + "/values/export.csv", 202, params={"streams": "temperature,humidity"})
    assert response.json() == {"status": "accepted"}
    job_url = response.headers["Location"]
    assert job_url.startswith(m2x_server.url + "/v2/jobs/")
    job = requests.get(job_url, headers={"X-M2X-KEY": m2x_server.master_key}, timeout=10).json()
    assert job["state"] == "complete" and job["output"] is None and job["errors"] is None
    csv_answer = requests.get(job["result"]["url"], timeout=10)
    assert csv_answer.status_code == 200 and csv_answer.headers["Content-Type"] == "text/csv"
    assert csv_answer.text.splitlines() == [
        "timestamp,temperature,humidity", at(3) + ",,70", at(2) + ",20,", at(1) + ",10,50"]
    assert requests.get(job["result"]["url"].replace(".csv", "x.csv"), timeout=10).status_code == 404
    jobs = api.get("/jobs")
    assert [item["id"] for item in jobs["jobs"]] == [job["id"]] and jobs["total"] == 1


def test_a_device_key_reads_its_own_export_job_only(api, device):
    other = api.device("other")
    location = api.call("GET", base(device) + "/values/export.csv", 202, key=device["key"]).headers["Location"]
    job_path = location.split("/v2", 1)[1]
    assert api.get(job_path, key=device["key"])["state"] == "complete"
    api.call("GET", job_path, 403, key=other["key"])
    api.call("GET", "/jobs", 403, key=device["key"])
    assert api.call("GET", "/jobs/" + "0" * 32, 404).json()["message"] == "The specified job does not exist"


def test_location_of_a_device_without_one_is_204(api, device):
    response = api.call("GET", base(device) + "/location", 204)
    assert response.content == b""


def test_update_location_and_read_it_back(api, device):
    body = {"name": "Storage Room", "latitude": "33.6908693", "longitude": -117.7597817, "elevation": "0",
            "timestamp": at(5)}
    assert api.call("PUT", base(device) + "/location", 202, json=body).json() == {"status": "accepted"}
    expected = {"name": "Storage Room", "latitude": 33.6908693, "longitude": -117.7597817, "elevation": 0,
                "timestamp": at(5)}
    assert api.get(base(device) + "/location") == dict(expected, waypoints=[expected])
    assert api.get(base(device))["location"] == expected


def test_update_location_validation(api, device):
    errors = api.call("PUT", base(device) + "/location", 422, json={"name": "x"}).json()["errors"]
    assert errors == {"latitude": ["not_present"], "longitude": ["not_present"]}
    errors = api.call("PUT", base(device) + "/location", 422, json={"latitude": "north", "longitude": 181}).json()
    assert errors["errors"] == {"latitude": ["not_numeric"], "longitude": ["out_of_range"]}
    api.call("PUT", base(device) + "/location", 400, json={"latitude": 1, "longitude": 1, "timestamp": "today"})


def test_waypoints_newest_first_with_range_and_limit(api, device):
    for second in range(5):
        api.call("PUT", base(device) + "/location", 202,
                 json={"latitude": second, "longitude": 0, "timestamp": at(second)})
    waypoints = api.get(base(device) + "/location/waypoints")["waypoints"]
    assert [point["latitude"] for point in waypoints] == [4, 3, 2, 1, 0]
    # The location itself is the newest, with the recent waypoints as the history has them.
    location = api.get(base(device) + "/location")
    assert location["latitude"] == 4 and location["waypoints"] == waypoints
    ranged = api.get(base(device) + "/location/waypoints", params={"start": at(1), "end": at(3), "limit": 2})
    assert [point["timestamp"] for point in ranged["waypoints"]] == [at(3), at(2)]


def test_delete_waypoints_in_a_range(api, device):
    for second in range(4):
        api.call("PUT", base(device) + "/location", 202,
                 json={"latitude": second, "longitude": 0, "timestamp": at(second)})
    path = base(device) + "/location/waypoints"
    assert api.call("DELETE", path, 202, json={"from": at(1), "end": at(2)}).json() == {"status": "accepted"}
    assert [point["latitude"] for point in api.get(path)["waypoints"]] == [3, 0]
    api.call("DELETE", path, 400, json={"from": at(3), "end": at(1)})
    api.call("DELETE", path, 422, json={"end": at(1)})
