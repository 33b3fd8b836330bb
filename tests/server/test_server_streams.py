"""Streams and their values: writes, timestamps, reads, deletes, sampling and stats."""

import http.client
import json
from urllib.parse import urlsplit

import pytest

from m2x_server_helpers import at

RECORDED_STATS_VALUES = [120, 120, 100, 100, 50, 50, 100, 120]  # streams_stats_success.txt


@pytest.fixture
def device(api):
    return api.device()


def stream_path(device, name="temperature"):
    return "/devices/%s/streams/%s" % (device["id"], name)


def test_create_stream_answers_201_then_204_for_an_existing_one(api, device, m2x_server):
    response = api.call("PUT", stream_path(device), 201, json={"unit": {"label": "celsius", "symbol": "C"}})
    stream = response.json()
    assert response.headers["Location"] == stream["url"] == m2x_server.url + "/v2" + stream_path(device)
    assert (stream["name"], stream["type"], stream["unit"]) == ("temperature", "numeric", {"label": "celsius",
                                                                                           "symbol": "C"})
    assert (stream["value"], stream["latest_value_at"], stream["display_name"]) == (None, None, None)
    again = api.call("PUT", stream_path(device), 204, json={"display_name": "Temperature"})
    assert again.content == b""
    stored = api.get(stream_path(device))
    assert (stored["display_name"], stored["unit"]["symbol"], stored["type"]) == ("Temperature", "C", "numeric")


def test_list_streams(api, device):
    api.stream(device["id"], "a")
    api.stream(device["id"], "b", type="alphanumeric")
    streams = api.get("/devices/%s/streams" % device["id"])["streams"]
    assert [(stream["name"], stream["type"]) for stream in streams] == [("a", "numeric"), ("b", "alphanumeric")]
    assert api.get("/devices/" + device["id"])["streams"]["count"] == 2


NAME_RULE = "use 1 to 128 letters, digits, '_', '-' or '.' (not '.' or '..' alone)"


def test_stream_validation(api, device):
    assert api.call("PUT", stream_path(device, "bad name!"), 422).json()["errors"] == {"name": [NAME_RULE]}
    assert "type" in api.call("PUT", stream_path(device), 422, json={"type": "colour"}).json()["errors"]
    assert api.call("PUT", stream_path(device), 422, json={"unit": "C"}).json()["errors"] == {
        "unit": ["not_an_object"]}


def test_dot_segment_stream_names_are_refused(device, m2x_server):
    # requests would resolve these segments away, so send the path as is.
    url = urlsplit(m2x_server.url)
    for name in (".", ".."):
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
        connection.request("PUT", "/v2" + stream_path(device, name), "{}", {"X-M2X-KEY": m2x_server.master_key})
        response = connection.getresponse()
        assert (response.status, json.loads(response.read())["errors"]) == (422, {"name": [NAME_RULE]}), name
        connection.close()


def test_stream_type_cannot_change_while_it_has_values(api, device):
    api.stream(device["id"])
    api.call("PUT", stream_path(device), 204, json={"type": "alphanumeric"})
    api.call("PUT", stream_path(device), 204, json={"type": "numeric"})
    api.put_value(device["id"], "temperature", 1)
    errors = api.call("PUT", stream_path(device), 422, json={"type": "alphanumeric"}).json()["errors"]
    assert list(errors) == ["type"]


def test_unknown_stream_is_404(api, device):
    assert api.call("GET", stream_path(device, "nope"), 404).json() == {
        "message": "The specified stream does not exist"}
    api.call("PUT", stream_path(device, "nope") + "/value", 404, json={"value": 1})
    api.call("POST", stream_path(device, "nope") + "/values", 404, json={"values": [{"value": 1}]})


def test_delete_stream_removes_its_values(api, device):
    api.stream(device["id"])
    api.put_value(device["id"], "temperature", 1, at(1))
    api.call("DELETE", stream_path(device), 204)
    api.call("GET", stream_path(device), 404)
    api.stream(device["id"])
    assert api.values(device["id"], "temperature") == []


def test_values_come_back_newest_first_and_set_the_stream_value(api, device):
    api.stream(device["id"])
    for second, value in ((1, 10), (3, 30), (2, 20)):
        api.put_value(device["id"], "temperature", value, at(second))
    assert api.values(device["id"], "temperature") == [
        {"timestamp": at(3), "value": 30}, {"timestamp": at(2), "value": 20}, {"timestamp": at(1), "value": 10}]
    stream = api.get(stream_path(device))
    assert (stream["value"], stream["latest_value_at"]) == (30, at(3))


def test_every_accepted_timestamp_flavour_is_stored_in_ms_utc(api, device):
    api.stream(device["id"])
    flavours = {
        "2015-04-21T03:36:42.347Z": "2015-04-21T03:36:42.347Z",
        "2015-04-21T03:36:43.349018Z": "2015-04-21T03:36:43.349Z",
        "2015-04-21T03:36:44Z": "2015-04-21T03:36:44.000Z",
        "2015-03-23T09:52:00-07:00": "2015-03-23T16:52:00.000Z",
        "2015-03-23T09:52:01.5+05:30": "2015-03-23T04:22:01.500Z",
    }
    for value, sent in enumerate(flavours):
        api.put_value(device["id"], "temperature", value, sent)
    stored = {item["timestamp"] for item in api.values(device["id"], "temperature")}
    assert stored == set(flavours.values())


@pytest.mark.parametrize("timestamp", [
    "2015-04-21", "2015-04-21T03:36:42", "2015-13-01T00:00:00Z", "now", 1429587402,
    # Offsets out of range, or carrying the time out of the years 1-9999 (was "10000-01-01T04:59:59.000Z").
    "2015-04-21T03:36:42+24:00", "2015-04-21T03:36:42+01:60",
    "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+01:00",
])
def test_a_malformed_timestamp_is_a_400(api, device, timestamp):
    api.stream(device["id"])
    body = {"value": 1, "timestamp": timestamp}
    response = api.call("PUT", stream_path(device) + "/value", 400, json=body)
    assert "timestamp" in response.json()["message"]
    assert api.values(device["id"], "temperature") == []


def test_numeric_streams_take_numbers_and_numeric_strings(api, device):
    api.stream(device["id"])
    for second, value in enumerate((23.5, "24.25", 7, "-3", " 1e3 ")):
        api.put_value(device["id"], "temperature", value, at(second))
    assert [item["value"] for item in api.values(device["id"], "temperature")] == [1000.0, -3, 7, 24.25, 23.5]


@pytest.mark.parametrize("value", ["warm", "", "NaN", "Infinity", "1_000", "\u0663", "0x10", True, None, [1], {"v": 1}])
def test_numeric_streams_reject_other_values(api, device, value):
    api.stream(device["id"])
    response = api.call("PUT", stream_path(device) + "/value", 422, json={"value": value})
    assert response.json() == {"message": "Validation Failed", "errors": {"value": ["not_numeric"]}}


def test_alphanumeric_streams_store_strings(api, device):
    api.stream(device["id"], "state", type="alphanumeric")
    api.put_value(device["id"], "state", "open", at(1))
    api.put_value(device["id"], "state", 12, at(2))
    assert [item["value"] for item in api.values(device["id"], "state")] == ["12", "open"]
    api.call("PUT", stream_path(device, "state") + "/value", 422, json={"value": False})


def test_missing_value_is_a_422(api, device):
    api.stream(device["id"])
    response = api.call("PUT", stream_path(device) + "/value", 422, json={"timestamp": at(1)})
    assert response.json()["errors"] == {"value": ["not_present"]}


def test_writing_the_same_timestamp_again_replaces_the_value(api, device):
    api.stream(device["id"])
    api.put_value(device["id"], "temperature", 1, at(1))
    api.put_value(device["id"], "temperature", 2, "2026-01-02T03:00:01.000999Z")
    assert api.values(device["id"], "temperature") == [{"timestamp": at(1), "value": 2}]


def test_ten_writes_without_timestamp_store_ten_values(api, device, m2x_server):
    api.stream(device["id"])
    for value in range(10):
        api.put_value(device["id"], "temperature", value)
    stored = api.values(device["id"], "temperature")
    assert [item["value"] for item in stored] == list(range(9, -1, -1))
    assert len({item["timestamp"] for item in stored}) == 10


def test_value_reads_filter_by_inclusive_range_limit_and_min_max(api, device):
    api.stream(device["id"])
    for second in range(10):
        api.put_value(device["id"], "temperature", second * 10, at(second))
    path = stream_path(device) + "/values"
    body = api.get(path, params={"start": at(2), "end": at(5)})
    assert [item["value"] for item in body["values"]] == [50, 40, 30, 20]
    assert (body["start"], body["end"], body["limit"]) == (at(2), at(5), 100)
    assert [item["value"] for item in api.get(path, params={"limit": 3})["values"]] == [90, 80, 70]
    assert [item["value"] for item in api.get(path, params={"min": 25, "max": "60"})["values"]] == [60, 50, 40, 30]
    assert api.get(path, params={"limit": 5000})["limit"] == 1000
    assert "start" not in api.get(path)
    api.call("GET", path, 400, params={"start": at(5), "end": at(2)})
    api.call("GET", path, 400, params={"start": "yesterday"})
    assert api.call("GET", path, 422, params={"limit": 0}).json()["errors"] == {"limit": ["must be at least 1"]}


def test_post_values_writes_all_or_nothing(api, device):
    api.stream(device["id"])
    path = stream_path(device) + "/values"
    api.call("POST", path, 202, json={"values": [{"timestamp": at(1), "value": 1}, {"timestamp": at(2), "value": "2"}]})
    assert [item["value"] for item in api.values(device["id"], "temperature")] == [2, 1]
    bad = {"values": [{"timestamp": at(3), "value": 3}, {"timestamp": at(4), "value": "four"}]}
    assert api.call("POST", path, 422, json=bad).json()["errors"] == {"value": ["not_numeric"]}
    api.call("POST", path, 400, json={"values": [{"timestamp": at(3), "value": 3}, {"timestamp": "x", "value": 4}]})
    assert len(api.values(device["id"], "temperature")) == 2
    assert list(api.call("POST", path, 422, json={"values": []}).json()["errors"]) == ["values"]
    assert list(api.call("POST", path, 422, json={"values": [{"timestamp": at(5)}]}).json()["errors"]) == ["value"]


def test_delete_values_removes_an_inclusive_range(api, device):
    api.stream(device["id"])
    for second in range(6):
        api.put_value(device["id"], "temperature", second, at(second))
    path = stream_path(device) + "/values"
    api.call("DELETE", path, 204, json={"from": at(1), "end": at(2)})
    api.call("DELETE", path, 204, params={"from": at(4), "end": at(4)})
    assert [item["value"] for item in api.values(device["id"], "temperature")] == [5, 3, 0]


def test_delete_values_checks_its_range(api, device):
    api.stream(device["id"])
    path = stream_path(device) + "/values"
    assert "after" in api.call("DELETE", path, 400, json={"from": at(5), "end": at(1)}).json()["message"]
    api.call("DELETE", path, 400, json={"from": "soon", "end": at(1)})
    assert api.call("DELETE", path, 422, json={"from": at(1)}).json()["errors"] == {"end": ["not_present"]}


def test_stats_match_the_recorded_example(api, device):
    api.stream(device["id"])
    for second, value in enumerate(RECORDED_STATS_VALUES):
        api.put_value(device["id"], "temperature", value, at(second))
    body = api.get(stream_path(device) + "/stats")
    assert body["stats"]["count"] == 8 and body["stats"]["min"] == 50 and body["stats"]["max"] == 120
    assert body["stats"]["avg"] == 95
    assert body["stats"]["stddev"] == pytest.approx(27.386128)
    ranged = api.get(stream_path(device) + "/stats", params={"start": at(2), "end": at(3)})
    assert ranged["stats"] == {"count": 2.0, "min": 100.0, "max": 100.0, "avg": 100.0, "stddev": 0.0}
    assert ranged["start"] == at(2) and ranged["end"] == at(3)
    assert api.get(stream_path(device) + "/stats", params={"min": 110})["stats"]["count"] == 3


def test_stats_of_an_empty_range_and_of_text_streams(api, device):
    api.stream(device["id"])
    assert api.get(stream_path(device) + "/stats")["stats"] == {
        "count": 0.0, "min": None, "max": None, "avg": None, "stddev": None}
    api.stream(device["id"], "state", type="alphanumeric")
    api.call("GET", stream_path(device, "state") + "/stats", 422)


def test_sampling_every_nth_value(api, device):
    api.stream(device["id"])
    for second in range(7):
        api.put_value(device["id"], "temperature", second, at(second))
    body = api.get(stream_path(device) + "/sampling", params={"interval": 3, "type": "nth"})
    assert body["values"] == [{"timestamp": at(6), "value": 6}, {"timestamp": at(3), "value": 3},
                              {"timestamp": at(0), "value": 0}]
    assert body["interval"] == 3


@pytest.mark.parametrize("kind, expected", [
    ("min", [4.0, 1.0]), ("max", [6.0, 3.0]), ("count", [2.0, 3.0]), ("sum", [10.0, 6.0]),
    ("avg", [5.0, 2.0]), ("stddev", [1.0, pytest.approx(0.8164966)]),
])
def test_sampling_aggregates_per_interval_bucket(api, device, kind, expected):
    api.stream(device["id"])
    for second, value in ((1, 1), (2, 2), (3, 3), (11, 4), (12, 6)):
        api.put_value(device["id"], "temperature", value, at(second))
    body = api.get(stream_path(device) + "/sampling", params={"interval": 10, "type": kind})
    assert [item["timestamp"] for item in body["values"]] == [at(10), at(0)]
    assert [item["value"] for item in body["values"]] == expected


def test_sampling_defaults_to_averages_and_checks_its_parameters(api, device):
    api.stream(device["id"])
    api.put_value(device["id"], "temperature", 3, "2015-04-21T03:36:42.347Z")
    body = api.get(stream_path(device) + "/sampling", params={"interval": 10})
    assert body["values"] == [{"timestamp": "2015-04-21T03:36:40.000Z", "value": 3.0}]  # as recorded
    assert api.call("GET", stream_path(device) + "/sampling", 422).json()["errors"] == {"interval": ["not_present"]}
    api.call("GET", stream_path(device) + "/sampling", 422, params={"interval": 1, "type": "median"})
    api.stream(device["id"], "state", type="alphanumeric")
    api.call("GET", stream_path(device, "state") + "/sampling", 422, params={"interval": 1})
