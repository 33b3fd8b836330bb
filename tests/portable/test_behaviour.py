# What a firmware author relies on beyond the exact requests: paging that survives other
# calls, free-form JSON sent as given, secrets kept out of messages, odd answers mapped.
import m2x_micro
from checks import raises
from fake_http import FakeHTTP

KEY = "k-0123456789abcdef0123456789abcdef"


def client_with(http):
    return m2x_micro.M2XClient(KEY, "http://m2x.test", transport=http)


def page(number, pages, ids):
    return {"devices": [{"id": i} for i in ids], "total": 5, "pages": pages, "limit": 2, "current_page": number}


def test_iterate_walks_every_page_while_the_loop_lists_other_things():
    http = FakeHTTP()
    http.reply(200, page(1, 3, ["a", "b"])).reply(200, {"streams": []}).reply(200, {"streams": []})
    http.reply(200, page(2, 3, ["c", "d"])).reply(200, {"streams": []}).reply(200, {"streams": []})
    http.reply(200, page(3, 3, ["e"])).reply(200, {"streams": []})
    client = client_with(http)
    walked = []
    for device in client.iterate(client.devices, limit=2):
        device.streams()  # a list without pages, read in the middle of the walk
        walked.append(device.id)
    assert walked == ["a", "b", "c", "d", "e"]


def test_metadata_and_command_answers_are_free_json():
    http = FakeHTTP().reply(204).reply(204).reply(204)
    client = client_with(http)
    device = m2x_micro.Device(client, {"id": "d1"})
    device.update_metadata_field("enabled", True)
    assert http.last()[3] == {"value": True}
    device.update_metadata({"name": 5, "end": None, "config": {"a": [1, 2]}})
    assert http.last()[3] == {"name": 5, "end": None, "config": {"a": [1, 2]}}
    device.process_command("c1", value=None, name="", timestamp="whenever")
    assert http.last()[3] == {"value": None, "name": "", "timestamp": "whenever"}


def test_unset_query_parameters_are_left_out():
    http = FakeHTTP().reply(200, {"devices": []})
    client_with(http).devices_search(serial=None, name="x")
    assert http.last()[2] == {"name": "x"}


def test_locations_are_checked_and_stamped_too():
    http = FakeHTTP()
    device = m2x_micro.Device(client_with(http), {"id": "d1"})
    raises(ValueError, device.update_location, latitude=float("nan"), longitude=1)
    raises(ValueError, device.update_location, latitude=1, longitude=float("inf"))
    raises(TypeError, device.update_location, latitude=[1], longitude=1)
    assert http.calls == []
    http.reply(202, {"status": "accepted"})
    device.post_update(values={"t": 1}, location={"latitude": 1, "longitude": 2, "timestamp": (2015, 1, 2, 3, 4, 5, 0, 0)})
    assert http.last()[3]["location"]["timestamp"] == "2015-01-02T03:04:05.000Z"


def test_dot_ids_are_refused():
    http = FakeHTTP()
    client = client_with(http)
    collection = m2x_micro.Collection(client, {"id": "c1"})
    for bad in (".", ".."):
        raises(ValueError, collection.remove_device, bad)
        raises(ValueError, client.device, bad)
        raises(ValueError, m2x_micro.Device(client, {"id": "d1"}).stream, bad)
    assert http.calls == []


def test_a_positional_argument_given_again_by_keyword_is_an_error():
    http = FakeHTTP()
    stream = m2x_micro.Stream(client_with(http), {"name": "t"}, "/devices/d1/streams")
    raises(TypeError, stream.add_value, 1, value=2)
    raises(TypeError, stream.delete_values, "2015-01-01T00:00:00Z")
    assert http.calls == []


def test_parameters_by_name_as_in_python():
    # The seed's own example is stream.sampling(interval=1); any parameter goes by name.
    http = FakeHTTP()
    client = client_with(http)
    stream = m2x_micro.Stream(client, {"name": "t"}, "/devices/d1/streams")
    http.reply(200, {"values": []})
    stream.sampling(interval=1)
    assert http.last()[:3] == ("GET", "/v2/devices/d1/streams/t/sampling", {"interval": "1"})
    http.reply(202, {"status": "accepted"})
    stream.add_value(value=5, timestamp="2015-01-01T00:00:00Z")
    assert http.last()[3] == {"value": 5, "timestamp": "2015-01-01T00:00:00.000Z"}
    http.reply(204)
    stream.delete_values(stop="2015-01-02T00:00:00.000Z", start="2015-01-01T00:00:00.000Z")
    assert http.last()[3] == {"from": "2015-01-01T00:00:00.000Z", "end": "2015-01-02T00:00:00.000Z"}
    http.reply(200, {"id": "d 2"})
    assert client.device(id="d 2").id == "d 2"
    assert http.last()[1] == "/v2/devices/d%202"
    device = m2x_micro.Device(client, {"id": "d1"})
    http.reply(204).reply(204)
    device.update_metadata_field(field="floor", value=3)
    assert http.last()[:4] == ("PUT", "/v2/devices/d1/metadata/floor", {}, {"value": 3})
    device.update_metadata(owner="ops")
    assert http.last()[3] == {"owner": "ops"}
    http.reply(204)
    m2x_micro.Collection(client, {"id": "c1"}).add_device(device_id="d1")
    assert http.last()[:2] == ("PUT", "/v2/collections/c1/devices/d1")
    calls = len(http.calls)
    raises(TypeError, device.update_metadata, {"owner": "ops"}, floor=3)  # one or the other
    raises(TypeError, client.device, "d1", id="d2")
    raises(TypeError, device.stream)
    assert len(http.calls) == calls


def test_keys_stay_out_of_reprs_and_network_errors():
    other = "other-key-fedcba9876543210"
    http = FakeHTTP().reply(200, {"key": other, "name": "reader"})
    client = client_with(http)
    key = client.key(other)
    assert other not in repr(key) and "reader" in repr(key)
    http.fail(OSError(113))
    e = raises(m2x_micro.NetworkError, key.regenerate)
    assert other not in str(e) and KEY not in str(e)


def test_requests_refusing_an_error_with_a_location_is_a_network_error():
    http = FakeHTTP().fail(NotImplementedError("Redirect 404 not yet supported"))
    e = raises(m2x_micro.NetworkError, client_with(http).status)
    assert "404" in str(e)


def test_odd_error_bodies_still_give_an_http_error():
    http = FakeHTTP().reply(502, b"\xff\xfe proxy page", {"Content-Type": "text/html"})
    assert raises(m2x_micro.HTTPError, client_with(http).status).status == 502
    http = FakeHTTP().reply(400, {"message": {"detail": "nested"}})
    e = raises(m2x_micro.HTTPError, client_with(http).status)
    assert e.status == 400 and "nested" in e.message
    assert http.all_closed()
