# The exact HTTP request every public API method sends (method, path, query, headers,
# JSON body) and what it returns, against the contract in spec/M2X-API-V2.md (sections 2
# and 4) and the method names of the seed's m2x-python API reference.
# Portable: runs under pytest on CPython and under mp_runner.py on MicroPython, so plain
# test_* functions, bare asserts, no pytest features, no datetime. MicroPython dicts are not
# ordered: queries are compared as dicts and bodies as parsed JSON.
import json
import time

import m2x_micro
from checks import raises
from fake_http import FakeHTTP, split_url

KEY = "the-api-key"
ENDPOINT = "http://m2x.test:8080"
DEV_ID = "722014c0eac34261d89a707f911cfa92"
DIST_ID = "ce21d58783bd50c4e4dc04919d01e81b"
COLL_ID = "6ff63016978318b79631a3e7676e8423"
CMD_ID = "66f46df9c2a8b6f6b0e2eaa5a2d8c1f1"
JOB_ID = "201512b934abb4fc68dedbc05ef052c6cff8f0"
ACCEPTED = {"status": "accepted"}

# Seconds since this interpreter's epoch of 2015-04-21T03:36:42Z (Unix 1429587402).
EPOCH_SHIFT = 946684800 if time.gmtime(0)[0] == 2000 else 0
LOCAL_SECS = 1429587402 - EPOCH_SHIFT
GMTIME = (2015, 4, 21, 3, 36, 42, 1, 111)
ISO = "2015-04-21T03:36:42.000Z"


# --- helpers ----------------------------------------------------------------------------


def make(*replies):
    """A client on a fresh FakeHTTP; each reply is a (status, body, headers) tuple."""
    http = FakeHTTP()
    for r in replies:
        http.reply(*r)
    return m2x_micro.M2XClient(KEY, ENDPOINT, timeout=5, transport=http), http


def device_of(client, http, ident=DEV_ID):
    http.reply(200, {"id": ident, "name": "Foo Bar", "visibility": "public"})
    return client.device(ident)


def stream_of(client, http, name="temperature", ident=DEV_ID):
    device = device_of(client, http, ident)
    http.reply(200, {"name": name, "type": "numeric", "value": None})
    return device.stream(name)


def check_headers(headers):
    assert isinstance(headers, dict), headers
    assert headers.get("X-M2X-KEY") == KEY, headers
    assert headers.get("Content-Type") == "application/json", headers
    agent = headers.get("User-Agent")
    assert isinstance(agent, str) and agent.startswith("m2x-micro/"), agent
    for name in headers:
        assert isinstance(name, str), name
        assert isinstance(headers[name], str), (name, headers[name])


def check_url(url):
    # Only printable ASCII without spaces may go on the wire; '#' would cut the URL.
    for ch in url:
        assert 0x21 <= ord(ch) <= 0x7E, url
    assert "#" not in url, url
    assert url.count("?") <= 1, url


def check(http, method, path, query=None, body=None, index=-1, calls=None):
    """Assert the request at calls[index]: path is the raw (percent-encoded) path after
    /v2, query the decoded dict, body the parsed JSON (None: no body at all)."""
    if calls is not None:
        assert len(http.calls) == calls, len(http.calls)
    got_method, url, data, headers, timeout = http.calls[index]
    assert got_method == method, got_method
    assert url.startswith(ENDPOINT + "/v2/"), url
    check_url(url)
    got_path, got_query = split_url(url)
    assert got_path == "/v2" + path, got_path
    assert got_query == (query or {}), got_query
    if body is None:
        assert data is None, data
    else:
        assert isinstance(data, bytes), type(data)
        parsed = json.loads(data)
        assert parsed == body, parsed
        # Compact: no space after ',' or ':' (MicroPython's json.dumps adds them by default).
        assert len(data) == len(json.dumps(parsed, separators=(",", ":")).encode()), data
    check_headers(headers)
    assert 4 < timeout <= 5, timeout  # what is left of the client's 5 s for the whole request
    assert http.all_closed()


def page(items_name, items, total, pages, limit, current):
    return {items_name: items, "total": total, "pages": pages, "limit": limit, "current_page": current}


# --- every request ----------------------------------------------------------------------


def test_headers_key_content_type_user_agent_all_str_and_timeout():
    client, http = make((200, {"api": "OK", "triggers": "OK"}))
    client.status()
    method, url, data, headers, timeout = http.calls[-1]
    assert headers["X-M2X-KEY"] == "the-api-key"
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith("m2x-micro/")
    for name in headers:
        assert type(name) is str and type(headers[name]) is str
    assert 4 < timeout <= 5, timeout  # what is left of the 5 s the whole request may take
    assert data is None
    assert url == "http://m2x.test:8080/v2/status"
    assert http.all_closed()


def test_endpoint_trailing_slash_does_not_double_the_slash():
    http = FakeHTTP().reply(200, {"api": "OK"})
    client = m2x_micro.M2XClient(KEY, ENDPOINT + "/", timeout=5, transport=http)
    client.status()
    assert http.calls[-1][1] == "http://m2x.test:8080/v2/status"


def test_body_is_compact_json_bytes():
    client, http = make((201, {"id": DEV_ID, "name": "a", "visibility": "public"}))
    client.create_device(name="a", visibility="public", tags=["x", "y"], metadata={"k": 1})
    data = http.calls[-1][2]
    assert isinstance(data, bytes)
    assert b", " not in data and b": " not in data, data
    assert json.loads(data) == {"name": "a", "visibility": "public", "tags": ["x", "y"], "metadata": {"k": 1}}


# --- client, account level (spec 4.1) ----------------------------------------------------


def test_status_gets_status_and_returns_dict():
    client, http = make((200, {"api": "OK", "triggers": "OK"}))
    assert client.status() == {"api": "OK", "triggers": "OK"}
    check(http, "GET", "/status", calls=1)


def test_time_returns_the_three_forms_as_dict():
    answer = {"seconds": 1435266414, "millis": 1435266414841, "iso8601": "2015-06-25T21:06:54.841Z"}
    client, http = make((200, answer))
    assert client.time() == answer
    check(http, "GET", "/time", calls=1)


def test_time_seconds_and_millis_read_text_plain_as_int():
    client, http = make((200, "1435266414", {"Content-Type": "text/plain"}),
                        (200, "1435266414841", {"Content-Type": "text/plain; charset=utf-8"}))
    seconds = client.time_seconds()
    check(http, "GET", "/time/seconds", calls=1)
    millis = client.time_millis()
    check(http, "GET", "/time/millis", calls=2)
    assert seconds == 1435266414 and type(seconds) is int
    assert millis == 1435266414841 and type(millis) is int


def test_time_iso8601_reads_text_plain_as_str():
    client, http = make((200, "2015-06-25T21:06:54.841Z", {"Content-Type": "text/plain"}))
    text = client.time_iso8601()
    assert text == "2015-06-25T21:06:54.841Z" and type(text) is str
    check(http, "GET", "/time/iso8601", calls=1)


def test_devices_lists_device_handles_with_query_and_sets_pagination():
    items = [{"id": "d1", "name": "one"}, {"id": "d2", "name": "two"}]
    client, http = make((200, page("devices", items, 19, 10, 2, 1)))
    devices = client.devices(page=1, limit=2, sort="name", dir="desc", q="foo")
    check(http, "GET", "/devices", {"page": "1", "limit": "2", "sort": "name", "dir": "desc", "q": "foo"}, calls=1)
    assert [type(d) for d in devices] == [m2x_micro.Device, m2x_micro.Device]
    assert [d.id for d in devices] == ["d1", "d2"]
    assert devices[1]["name"] == "two" and devices[1].data == items[1]
    assert devices[0].path == "/devices/d1"
    assert client.pagination == {"total": 19, "pages": 10, "limit": 2, "current_page": 1}


def test_query_values_are_percent_encoded_lists_joined_bools_lowercase():
    client, http = make((200, page("devices", [], 0, 0, 100, 1)))
    client.devices(q="a b&c=d+e/\u00e9#", tags=["x y", "z"], archived=True)
    url = http.calls[-1][1]
    check(http, "GET", "/devices", {"q": "a b&c=d+e/\u00e9#", "tags": "x y,z", "archived": "true"}, calls=1)
    query = url.split("?", 1)[1]
    assert query.count("&") == 2 and query.count("=") == 3, query
    assert "+" not in query and "%C3%A9" in query, query


def test_create_device_posts_body_and_returns_device():
    created = {"id": DEV_ID, "name": "Foo Bar", "visibility": "public", "status": "enabled", "key": "k1"}
    client, http = make((201, created, {"Location": ENDPOINT + "/v2/devices/" + DEV_ID}))
    device = client.create_device(name="Foo Bar", visibility="public", description="d", serial="s-1")
    check(http, "POST", "/devices", body={"name": "Foo Bar", "visibility": "public", "description": "d", "serial": "s-1"},
          calls=1)
    assert type(device) is m2x_micro.Device
    assert device.data == created and device.id == DEV_ID and device["key"] == "k1"
    assert device.path == "/devices/" + DEV_ID


def test_device_gets_by_id_and_returns_device():
    client, http = make()
    device = device_of(client, http)
    check(http, "GET", "/devices/" + DEV_ID, calls=1)
    assert type(device) is m2x_micro.Device
    assert device.id == DEV_ID and device.name == "Foo Bar"


def test_ids_with_space_slash_and_non_ascii_are_percent_encoded_in_paths():
    client, http = make()
    device = device_of(client, http, "dev 1/\u00e9")
    check(http, "GET", "/devices/dev%201%2F%C3%A9", calls=1)
    assert device.path == "/devices/dev%201%2F%C3%A9"
    http.reply(200, {})
    device.log()
    check(http, "GET", "/devices/dev%201%2F%C3%A9/log", calls=2)
    http.reply(200, {"name": "temp \u00b0C/x"})
    stream = device.stream("temp \u00b0C/x")
    check(http, "GET", "/devices/dev%201%2F%C3%A9/streams/temp%20%C2%B0C%2Fx", calls=3)
    http.reply(200, {})
    stream.values()
    check(http, "GET", "/devices/dev%201%2F%C3%A9/streams/temp%20%C2%B0C%2Fx/values", calls=4)
    http.reply(200, {})
    device.read_metadata_field("a b/c")
    check(http, "GET", "/devices/dev%201%2F%C3%A9/metadata/a%20b%2Fc", calls=5)
    http.reply(200, {})
    device.command("c 1/2")
    check(http, "GET", "/devices/dev%201%2F%C3%A9/commands/c%201%2F2", calls=6)
    http.reply(200, {"key": "k/+=", "name": "n"})
    key = client.key("k/+=")
    check(http, "GET", "/keys/k%2F%2B%3D", calls=7)
    http.reply(204)
    key.remove()
    check(http, "DELETE", "/keys/k%2F%2B%3D", calls=8)
    collection = m2x_micro.Collection(client, {"id": "c 1"})
    http.reply(204)
    collection.add_device("x/y z")
    check(http, "PUT", "/collections/c%201/devices/x%2Fy%20z", calls=9)


def test_devices_search_sends_query_params_and_json_body_filters():
    found = [{"id": "d1", "name": "TestDeviceRed"}]
    client, http = make((200, page("devices", found, 8, 8, 1, 1)))
    streams = {"temperature": {"value": {"gt": 20}}}
    location = {"within_circle": {"center": {"latitude": 40.5, "longitude": -73.25}, "radius": {"km": 10}}}
    metadata = {"owner": {"match": "ops"}}
    devices = client.devices_search(name="Test Device", status="enabled", tags=["a", "b"], visibility="private",
                                    modified_since=GMTIME, page=1, limit=1,
                                    streams=streams, location=location, metadata=metadata)
    check(http, "GET", "/devices/search",
          {"name": "Test Device", "status": "enabled", "tags": "a,b", "visibility": "private",
           "modified_since": ISO, "page": "1", "limit": "1"},
          {"streams": streams, "location": location, "metadata": metadata}, calls=1)
    assert [type(d) for d in devices] == [m2x_micro.Device]
    assert devices[0].id == "d1" and devices[0].path == "/devices/d1"


def test_devices_search_without_filters_sends_no_body():
    client, http = make((200, page("devices", [], 0, 0, 100, 1)))
    assert client.devices_search(q="x") == []
    check(http, "GET", "/devices/search", {"q": "x"}, None, calls=1)


def test_devices_search_sets_pagination_like_every_list():
    # Spec 4.1: devices_search answers a paginated `devices` list; 7: returning only the
    # first page (walking pages needing last_response) is an m2x-python bug not to copy.
    client, http = make((200, page("devices", [{"id": "d1"}], 8, 8, 1, 1)))
    client.pagination = {}
    client.devices_search(status="enabled", limit=1)
    assert client.pagination == {"total": 8, "pages": 8, "limit": 1, "current_page": 1}, client.pagination


def test_device_catalog_lists_public_devices():
    client, http = make((200, page("devices", [{"id": "p1", "visibility": "public"}], 1, 1, 100, 1)))
    devices = client.device_catalog(page=2, limit=5)
    check(http, "GET", "/devices/catalog", {"page": "2", "limit": "5"}, calls=1)
    assert [type(d) for d in devices] == [m2x_micro.Device] and devices[0].id == "p1"
    assert client.pagination["total"] == 1


def test_device_catalog_and_status_work_without_a_key():
    http = FakeHTTP().reply(200, page("devices", [], 0, 0, 100, 1)).reply(200, {"api": "OK"})
    client = m2x_micro.M2XClient(None, ENDPOINT, timeout=5, transport=http)
    assert client.device_catalog() == []
    assert client.status() == {"api": "OK"}
    for call in http.calls:
        headers = call[3]
        assert "X-M2X-KEY" not in headers, headers
        assert headers["Content-Type"] == "application/json"
    assert split_url(http.calls[0][1]) == ("/v2/devices/catalog", {})
    assert split_url(http.calls[1][1]) == ("/v2/status", {})
    assert http.all_closed()


def test_device_tags_returns_the_tags_dict():
    client, http = make((200, {"tags": {"foo": 1, "bar": 2}}))
    assert client.device_tags() == {"foo": 1, "bar": 2}
    check(http, "GET", "/devices/tags", calls=1)


def test_device_tags_accepts_query_params_like_the_seed():
    # Seed: device_tags(**params), "Query parameters passed as keyword arguments";
    # spec 7 lists m2x-python raising on any of them as a bug not to copy.
    client, http = make((200, {"tags": {"foo": 1}}))
    assert client.device_tags(page=2) == {"foo": 1}
    check(http, "GET", "/devices/tags", {"page": "2"}, calls=1)


def test_distributions_list_create_and_get():
    dist = {"id": DIST_ID, "name": "Test Distribution", "visibility": "private"}
    client, http = make((200, page("distributions", [dist], 1, 1, 10, 1)), (201, dist), (200, dist))
    items = client.distributions(limit=10)
    check(http, "GET", "/distributions", {"limit": "10"}, calls=1)
    assert [type(d) for d in items] == [m2x_micro.Distribution] and items[0].id == DIST_ID
    assert client.pagination == {"total": 1, "pages": 1, "limit": 10, "current_page": 1}
    created = client.create_distribution(name="Test Distribution", visibility="private", description="x")
    check(http, "POST", "/distributions", body={"name": "Test Distribution", "visibility": "private", "description": "x"},
          calls=2)
    assert type(created) is m2x_micro.Distribution and created.data == dist
    got = client.distribution(DIST_ID)
    check(http, "GET", "/distributions/" + DIST_ID, calls=3)
    assert type(got) is m2x_micro.Distribution and got.path == "/distributions/" + DIST_ID


def test_collections_list_create_and_get():
    coll = {"id": COLL_ID, "name": "First Child Collection", "parent": "p1", "devices": 1}
    client, http = make((200, {"collections": [coll]}), (201, coll), (200, coll))
    items = client.collections(parent="p1", name="First", tags=["a", "b"])
    check(http, "GET", "/collections", {"parent": "p1", "name": "First", "tags": "a,b"}, calls=1)
    assert [type(c) for c in items] == [m2x_micro.Collection] and items[0].id == COLL_ID
    created = client.create_collection(name="First Child Collection", parent="p1", metadata={"k": "v"})
    check(http, "POST", "/collections", body={"name": "First Child Collection", "parent": "p1", "metadata": {"k": "v"}},
          calls=2)
    assert type(created) is m2x_micro.Collection and created.data == coll
    got = client.collection(COLL_ID)
    check(http, "GET", "/collections/" + COLL_ID, calls=3)
    assert type(got) is m2x_micro.Collection and got.path == "/collections/" + COLL_ID


def test_keys_list_create_and_get():
    key = {"name": "Raspberry PI", "key": "test-key", "master": True, "permissions": ["GET", "POST"]}
    client, http = make((200, {"keys": [key]}), (201, key), (200, key))
    items = client.keys(distribution=DIST_ID)
    check(http, "GET", "/keys", {"distribution": DIST_ID}, calls=1)
    assert [type(k) for k in items] == [m2x_micro.Key] and items[0].key == "test-key"
    assert items[0].path == "/keys/test-key"
    created = client.create_key(name="Raspberry PI", permissions=["GET", "POST"], origin="10.0.0.1")
    check(http, "POST", "/keys", body={"name": "Raspberry PI", "permissions": ["GET", "POST"], "origin": "10.0.0.1"},
          calls=2)
    assert type(created) is m2x_micro.Key and created.data == key
    got = client.key("test-key")
    check(http, "GET", "/keys/test-key", calls=3)
    assert type(got) is m2x_micro.Key and got["name"] == "Raspberry PI"


def test_create_key_formats_expires_at_like_every_timestamp():
    # DESIGN "Rules": timestamps are formatted by the client from whatever users have;
    # expires_at is the key's timestamp (spec 4.1 create key, 5 Key object).
    client, http = make((201, {"key": "k1", "name": "n"}))
    client.create_key(name="n", permissions=["GET"], expires_at=GMTIME)
    check(http, "POST", "/keys", body={"name": "n", "permissions": ["GET"], "expires_at": ISO}, calls=1)


def test_commands_lists_command_handles_with_normalised_time_bounds():
    sent = [{"id": CMD_ID, "name": "CHECK_UPDATES", "sent_at": ISO,
             "status_counts": {"pending": 1, "processed": 0, "rejected": 0}}]
    client, http = make((200, {"commands": sent}))
    commands = client.commands(limit=10, dir="desc", name="CHECK_UPDATES", start=GMTIME,
                               end="2015-04-21T05:36:42+02:00")
    check(http, "GET", "/commands",
          {"limit": "10", "dir": "desc", "name": "CHECK_UPDATES", "start": ISO, "end": ISO}, calls=1)
    assert [type(c) for c in commands] == [m2x_micro.Command]
    assert commands[0].id == CMD_ID and commands[0].path == "/commands/" + CMD_ID


def test_send_command_202_location_gives_command_carrying_the_id():
    client, http = make((202, ACCEPTED, {"Location": ENDPOINT + "/v2/commands/" + CMD_ID}))
    body = {"name": "CHECK_UPDATES", "data": {"force": True}, "targets": {"devices": ["id1", "id2"]}}
    command = client.send_command(name="CHECK_UPDATES", data={"force": True}, targets={"devices": ["id1", "id2"]})
    check(http, "POST", "/commands", body=body, calls=1)
    assert type(command) is m2x_micro.Command
    assert command.id == CMD_ID and command["id"] == CMD_ID and command.data["id"] == CMD_ID
    assert command.path == "/commands/" + CMD_ID


def test_command_and_job_handles_expose_data_item_and_attribute():
    cmd = {"id": CMD_ID, "name": "CHECK_UPDATES", "data": {"force": True}, "status_counts": {"pending": 1}}
    job = {"id": JOB_ID, "state": "complete", "output": None, "errors": None,
           "result": {"url": "http://export.test/values.csv"}}
    client, http = make((200, cmd), (200, job))
    command = client.command(CMD_ID)
    check(http, "GET", "/commands/" + CMD_ID, calls=1)
    assert type(command) is m2x_micro.Command
    assert command.data == cmd and command["id"] == CMD_ID and command.id == CMD_ID
    assert command.name == "CHECK_UPDATES" and command["data"] == {"force": True}
    got = client.job(JOB_ID)
    check(http, "GET", "/jobs/" + JOB_ID, calls=2)
    assert type(got) is m2x_micro.Job
    assert got.data == job and got["id"] == JOB_ID and got.id == JOB_ID
    assert got.state == "complete" and got["result"]["url"] == "http://export.test/values.csv"
    raises(AttributeError, getattr, got, "no_such_field")
    raises(KeyError, lambda: got["no_such_field"])


def test_iterate_walks_three_pages_lazily():
    client, http = make()
    for n in (1, 2, 3):
        http.reply(200, page("devices", [{"id": "d%d%d" % (n, i)} for i in (1, 2)], 6, 3, 2, n))
    items = client.iterate(client.devices, limit=2, sort="name")
    assert len(http.calls) == 0  # nothing is read before the first item is asked for
    seen = []
    for expected_calls in (1, 1, 2, 2, 3, 3):
        seen.append(next(items).id)
        assert len(http.calls) == expected_calls, (seen, len(http.calls))
    assert [d for d in items] == []
    assert len(http.calls) == 3  # the last page said pages=3: no fourth request
    assert seen == ["d11", "d12", "d21", "d22", "d31", "d32"]
    for n in (1, 2, 3):
        check(http, "GET", "/devices", {"page": str(n), "limit": "2", "sort": "name"}, index=n - 1)
    assert client.pagination == {"total": 6, "pages": 3, "limit": 2, "current_page": 3}


def test_iterate_walks_devices_search_pages_with_the_same_filters():
    client, http = make()
    for n in (1, 2):
        http.reply(200, page("devices", [{"id": "s%d" % n}], 2, 2, 1, n))
    streams = {"temperature": {"value": {"gt": 20}}}
    found = [d.id for d in client.iterate(client.devices_search, limit=1, streams=streams)]
    assert found == ["s1", "s2"], found
    assert len(http.calls) == 2
    for n in (1, 2):
        check(http, "GET", "/devices/search", {"page": str(n), "limit": "1"}, {"streams": streams}, index=n - 1)


# --- Device (spec 4.3) -------------------------------------------------------------------


def test_device_streams_lists_stream_handles_under_the_device():
    client, http = make()
    device = device_of(client, http)
    http.reply(200, {"streams": [{"name": "temperature", "type": "numeric"}, {"name": "hum idity"}]})
    streams = device.streams()
    check(http, "GET", "/devices/%s/streams" % DEV_ID, calls=2)
    assert [type(s) for s in streams] == [m2x_micro.Stream, m2x_micro.Stream]
    assert [s.name for s in streams] == ["temperature", "hum idity"]
    assert streams[0].path == "/devices/%s/streams/temperature" % DEV_ID
    assert streams[1].path == "/devices/%s/streams/hum%%20idity" % DEV_ID


def test_device_stream_gets_one_stream():
    client, http = make()
    stream = stream_of(client, http)
    check(http, "GET", "/devices/%s/streams/temperature" % DEV_ID, calls=2)
    assert type(stream) is m2x_micro.Stream
    assert stream.name == "temperature" and stream["type"] == "numeric"
    assert stream.path == "/devices/%s/streams/temperature" % DEV_ID


def test_create_stream_201_returns_stream_with_the_servers_data():
    client, http = make()
    device = device_of(client, http)
    created = {"name": "stream_foo", "type": "numeric", "unit": {"label": "Foo", "symbol": "F"}, "value": None}
    http.reply(201, created, {"Location": ENDPOINT + "/v2/devices/%s/streams/stream_foo" % DEV_ID})
    stream = device.create_stream("stream_foo", unit={"label": "Foo", "symbol": "F"}, type="numeric")
    check(http, "PUT", "/devices/%s/streams/stream_foo" % DEV_ID,
          body={"unit": {"label": "Foo", "symbol": "F"}, "type": "numeric"}, calls=2)
    assert type(stream) is m2x_micro.Stream
    assert stream.data == created and stream.name == "stream_foo"
    assert stream.path == "/devices/%s/streams/stream_foo" % DEV_ID


def test_create_stream_204_returns_stream_that_keeps_its_name():
    client, http = make()
    device = device_of(client, http)
    http.reply(204)
    stream = device.create_stream("stream_foo", display_name="Foo")
    check(http, "PUT", "/devices/%s/streams/stream_foo" % DEV_ID, body={"display_name": "Foo"}, calls=2)
    assert type(stream) is m2x_micro.Stream
    assert stream.name == "stream_foo" and stream["name"] == "stream_foo"
    assert stream.path == "/devices/%s/streams/stream_foo" % DEV_ID
    http.reply(200, {"values": []})
    stream.values()
    check(http, "GET", "/devices/%s/streams/stream_foo/values" % DEV_ID, calls=3)


def test_update_stream_puts_the_stream_and_returns_it():
    client, http = make()
    device = device_of(client, http)
    http.reply(204)
    stream = device.update_stream("temp c", unit={"label": "Celsius", "symbol": "C"})
    check(http, "PUT", "/devices/%s/streams/temp%%20c" % DEV_ID, body={"unit": {"label": "Celsius", "symbol": "C"}},
          calls=2)
    assert type(stream) is m2x_micro.Stream and stream.name == "temp c"


def test_device_keys_lists_keys_filtered_by_the_device():
    client, http = make()
    device = device_of(client, http)
    http.reply(200, {"keys": [{"key": "dk1", "name": "device key", "master": False}]})
    keys = device.keys()
    check(http, "GET", "/keys", {"device": DEV_ID}, calls=2)
    assert [type(k) for k in keys] == [m2x_micro.Key] and keys[0].key == "dk1"


def test_device_create_key_posts_to_keys_with_the_device():
    client, http = make()
    device = device_of(client, http)
    http.reply(201, {"key": "dk2", "name": "sensor", "device": ENDPOINT + "/v2/devices/" + DEV_ID})
    key = device.create_key(name="sensor", permissions=["GET", "PUT"], stream="temperature")
    check(http, "POST", "/keys",
          body={"name": "sensor", "permissions": ["GET", "PUT"], "stream": "temperature", "device": DEV_ID}, calls=2)
    assert type(key) is m2x_micro.Key and key.key == "dk2" and key.path == "/keys/dk2"


def test_device_location_200_gives_dict_204_gives_none():
    where = {"name": "Storage Room", "latitude": "33.5", "longitude": "-117.75", "elevation": "0", "timestamp": ISO}
    client, http = make()
    device = device_of(client, http)
    http.reply(200, where).reply(204)
    assert device.location() == where
    check(http, "GET", "/devices/%s/location" % DEV_ID, calls=2)
    assert device.location() is None
    check(http, "GET", "/devices/%s/location" % DEV_ID, calls=3)


def test_update_location_puts_body_with_normalised_timestamp():
    client, http = make()
    device = device_of(client, http)
    http.reply(202, ACCEPTED)
    result = device.update_location(name="Storage Room", latitude=40.5, longitude=-73.25, elevation=5,
                                    timestamp=GMTIME)
    check(http, "PUT", "/devices/%s/location" % DEV_ID,
          body={"name": "Storage Room", "latitude": 40.5, "longitude": -73.25, "elevation": 5, "timestamp": ISO},
          calls=2)
    assert result == ACCEPTED


def test_location_history_gets_waypoints_with_query():
    client, http = make()
    device = device_of(client, http)
    waypoints = {"waypoints": [{"latitude": 1, "longitude": 2, "timestamp": ISO}]}
    http.reply(200, waypoints)
    assert device.location_history(start=LOCAL_SECS, end="2015-04-21T03:36:43Z", limit=10) == waypoints
    check(http, "GET", "/devices/%s/location/waypoints" % DEV_ID,
          {"start": ISO, "end": "2015-04-21T03:36:43.000Z", "limit": "10"}, calls=2)


def test_delete_location_history_sends_from_and_end_in_body_start_accepted_for_from():
    client, http = make()
    device = device_of(client, http)
    http.reply(202, ACCEPTED).reply(202, ACCEPTED)
    assert device.delete_location_history(start=GMTIME, end="2015-04-21T04:36:42Z") == ACCEPTED
    check(http, "DELETE", "/devices/%s/location/waypoints" % DEV_ID,
          body={"from": ISO, "end": "2015-04-21T04:36:42.000Z"}, calls=2)
    kw = {"from": "2015-04-21T03:36:42.5Z", "end": LOCAL_SECS + 3600}
    assert device.delete_location_history(**kw) == ACCEPTED
    check(http, "DELETE", "/devices/%s/location/waypoints" % DEV_ID,
          body={"from": "2015-04-21T03:36:42.500Z", "end": "2015-04-21T04:36:42.000Z"}, calls=3)


def test_device_log_gets_request_log():
    log = {"requests": [{"timestamp": ISO, "status": 202, "http_method": "PUT", "path": "/v2/x"}]}
    client, http = make()
    device = device_of(client, http)
    http.reply(200, log)
    assert device.log() == log
    check(http, "GET", "/devices/%s/log" % DEV_ID, calls=2)


def test_post_update_posts_values_with_normalised_timestamp():
    client, http = make()
    device = device_of(client, http)
    http.reply(202, ACCEPTED)
    location = {"latitude": 40.5, "longitude": -73.25}
    result = device.post_update(timestamp="2015-04-21T03:36:42.349018Z",
                                values={"temperature": 30, "humidity": 80.5, "state": "on"}, location=location)
    check(http, "POST", "/devices/%s/update" % DEV_ID,
          body={"timestamp": "2015-04-21T03:36:42.349Z", "values": {"temperature": 30, "humidity": 80.5, "state": "on"},
                "location": location}, calls=2)
    assert result == ACCEPTED


def test_post_updates_normalises_every_accepted_timestamp_kind():
    client, http = make()
    device = device_of(client, http)
    http.reply(202, ACCEPTED)
    values = {
        "temperature": [
            {"timestamp": "2015-04-21T03:36:42.347Z", "value": 1},
            {"timestamp": "2015-04-21T03:36:42.349018Z", "value": 2},
            {"timestamp": "2015-04-21T03:36:42Z", "value": 3},
            {"timestamp": "2015-04-20T20:36:42.347-07:00", "value": 4},
            {"timestamp": "2015-04-21T05:36:42.3+02:00", "value": 5},
        ],
        "humidity": [
            {"timestamp": LOCAL_SECS, "value": 6},
            {"timestamp": LOCAL_SECS + 0.25, "value": 7.5},
            {"timestamp": GMTIME, "value": 8},
            {"timestamp": ISO, "value": "80"},
        ],
    }
    location = {"latitude": 40.5, "longitude": -73.25}
    result = device.post_updates(values=values, location=location)
    check(http, "POST", "/devices/%s/updates" % DEV_ID, body={
        "values": {
            "temperature": [
                {"timestamp": "2015-04-21T03:36:42.347Z", "value": 1},
                {"timestamp": "2015-04-21T03:36:42.349Z", "value": 2},
                {"timestamp": "2015-04-21T03:36:42.000Z", "value": 3},
                {"timestamp": "2015-04-21T03:36:42.347Z", "value": 4},
                {"timestamp": "2015-04-21T03:36:42.300Z", "value": 5},
            ],
            "humidity": [
                {"timestamp": ISO, "value": 6},
                {"timestamp": "2015-04-21T03:36:42.250Z", "value": 7.5},
                {"timestamp": ISO, "value": 8},
                {"timestamp": ISO, "value": "80"},
            ],
        },
        "location": location,
    }, calls=2)
    assert result == ACCEPTED
    # The caller's dict is left as it was.
    assert values["temperature"][1]["timestamp"] == "2015-04-21T03:36:42.349018Z"
    assert values["humidity"][2]["timestamp"] == GMTIME


def test_post_updates_gives_a_value_without_timestamp_the_clients_now():
    client, http = make()
    device = device_of(client, http)
    client.clock_offset = 10 * 86400 * 1000  # as if sync_time() found the server 10 days ahead
    http.reply(202, ACCEPTED)
    device.post_updates(values={"temperature": [{"value": 21}]})
    check(http, "POST", "/devices/%s/updates" % DEV_ID, body=json.loads(http.calls[-1][2]), calls=2)
    sent = json.loads(http.calls[-1][2])["values"]["temperature"]
    assert len(sent) == 1 and sent[0]["value"] == 21
    stamp = sent[0]["timestamp"]
    assert len(stamp) == 24 and stamp[10] == "T" and stamp[19] == "." and stamp[-1] == "Z", stamp
    assert abs(m2x_micro.parse_iso8601(stamp) - client.now_ms()) < 60000, stamp


def test_device_values_gets_query_with_streams_joined():
    answer = {"start": ISO, "end": ISO, "limit": 10, "values": [{"timestamp": ISO, "values": {"t": 1}}]}
    client, http = make()
    device = device_of(client, http)
    http.reply(200, answer)
    assert device.values(start=GMTIME, end="2015-04-21T03:36:42.999Z", limit=10, streams=["t", "h"]) == answer
    check(http, "GET", "/devices/%s/values" % DEV_ID,
          {"start": ISO, "end": "2015-04-21T03:36:42.999Z", "limit": "10", "streams": "t,h"}, calls=2)


def test_values_export_returns_the_job_id_from_location():
    client, http = make()
    device = device_of(client, http)
    http.reply(202, ACCEPTED, {"Location": "http://api-m2x.att.com/v2/jobs/" + JOB_ID})
    result = device.values_export(start=GMTIME, streams=["t", "h"])
    check(http, "GET", "/devices/%s/values/export.csv" % DEV_ID, {"start": ISO, "streams": "t,h"}, calls=2)
    assert result == {"status": "accepted", "job": JOB_ID}, result
    # Header names keep the server's casing on MicroPython: any casing is found.
    http.reply(202, ACCEPTED, {"location": ENDPOINT + "/v2/jobs/j2"})
    assert device.values_export() == {"status": "accepted", "job": "j2"}
    check(http, "GET", "/devices/%s/values/export.csv" % DEV_ID, calls=3)


def test_values_search_posts_json_body():
    client, http = make()
    device = device_of(client, http)
    answer = {"values": [{"timestamp": ISO, "values": {"t": 25}}]}
    http.reply(200, answer)
    result = device.values_search(start=GMTIME, end="2015-04-22T03:36:42Z", streams=["t"],
                                  conditions={"t": {"gte": 20}})
    check(http, "POST", "/devices/%s/values/search" % DEV_ID, body={
        "start": ISO, "end": "2015-04-22T03:36:42.000Z", "streams": ["t"], "conditions": {"t": {"gte": 20}}}, calls=2)
    assert result == answer


def test_device_commands_and_command_return_the_api_dicts():
    listed = {"commands": [{"id": CMD_ID, "name": "CHECK", "status": "pending", "sent_at": ISO}]}
    one = {"id": CMD_ID, "name": "CHECK", "data": {"x": 1}, "status": "pending"}
    client, http = make()
    device = device_of(client, http)
    http.reply(200, listed).reply(200, one)
    assert device.commands(status="pending", limit=5, start=GMTIME) == listed
    check(http, "GET", "/devices/%s/commands" % DEV_ID, {"status": "pending", "limit": "5", "start": ISO}, calls=2)
    assert device.command(CMD_ID) == one
    check(http, "GET", "/devices/%s/commands/%s" % (DEV_ID, CMD_ID), calls=3)


def test_process_command_posts_response_data_204_gives_none():
    client, http = make()
    device = device_of(client, http)
    http.reply(204)
    assert device.process_command(CMD_ID, result="ok", count=3) is None
    check(http, "POST", "/devices/%s/commands/%s/process" % (DEV_ID, CMD_ID), body={"result": "ok", "count": 3}, calls=2)


def test_reject_command_posts_to_reject_204_gives_none():
    client, http = make()
    device = device_of(client, http)
    http.reply(204).reply(204)
    assert device.reject_command(CMD_ID, reason="busy") is None
    check(http, "POST", "/devices/%s/commands/%s/reject" % (DEV_ID, CMD_ID), body={"reason": "busy"}, calls=2)
    assert device.reject_command(CMD_ID) is None
    method, url, data, headers, timeout = http.calls[-1]
    assert method == "POST" and split_url(url) == ("/v2/devices/%s/commands/%s/reject" % (DEV_ID, CMD_ID), {})
    assert data is None or json.loads(data) == {}, data  # optional free JSON: none, or an empty object


def test_device_update_puts_204_gives_none_and_updates_the_handle():
    client, http = make()
    device = device_of(client, http)
    http.reply(204)
    result = device.update(name="Device2", description="d2", visibility="private", status="enabled")
    check(http, "PUT", "/devices/" + DEV_ID,
          body={"name": "Device2", "description": "d2", "visibility": "private", "status": "enabled"}, calls=2)
    assert result is None
    assert device.name == "Device2" and device["visibility"] == "private" and device.data["id"] == DEV_ID


def test_device_remove_deletes_204_gives_none():
    client, http = make()
    device = device_of(client, http)
    http.reply(204)
    assert device.remove() is None
    check(http, "DELETE", "/devices/" + DEV_ID, calls=2)


def test_metadata_read_and_update_on_device_distribution_collection():
    client, http = make()
    handles = (
        ("/devices/" + DEV_ID, m2x_micro.Device(client, {"id": DEV_ID})),
        ("/distributions/" + DIST_ID, m2x_micro.Distribution(client, {"id": DIST_ID})),
        ("/collections/" + COLL_ID, m2x_micro.Collection(client, {"id": COLL_ID})),
    )
    for path, handle in handles:
        before = len(http.calls)
        http.reply(200, {"owner": "ops", "floor": 3})
        assert handle.read_metadata() == {"owner": "ops", "floor": 3}
        check(http, "GET", path + "/metadata", calls=before + 1)
        http.reply(200, {"value": "ops"})
        assert handle.read_metadata_field("owner") == {"value": "ops"}
        check(http, "GET", path + "/metadata/owner", calls=before + 2)
        http.reply(204)
        assert handle.update_metadata({"owner": "dev", "floor": 4}) is None
        check(http, "PUT", path + "/metadata", body={"owner": "dev", "floor": 4}, calls=before + 3)
        http.reply(204)
        assert handle.update_metadata_field("floor", 5) is None
        check(http, "PUT", path + "/metadata/floor", body={"value": 5}, calls=before + 4)


# --- Stream (spec 4.4) -------------------------------------------------------------------

STREAM_PATH = "/devices/%s/streams/temperature" % DEV_ID


def test_stream_values_gets_query():
    answer = {"limit": 100, "end": ISO, "values": [{"timestamp": ISO, "value": 120.0}]}
    client, http = make()
    stream = stream_of(client, http)
    http.reply(200, answer)
    assert stream.values(start=GMTIME, end=LOCAL_SECS + 60, limit=100, min=1, max=200) == answer
    check(http, "GET", STREAM_PATH + "/values",
          {"start": ISO, "end": "2015-04-21T03:37:42.000Z", "limit": "100", "min": "1", "max": "200"}, calls=3)


def test_stream_sampling_sends_interval_and_type_in_query():
    answer = {"values": [], "start": ISO, "end": ISO, "interval": 60}
    client, http = make()
    stream = stream_of(client, http)
    http.reply(200, answer)
    assert stream.sampling(60, type="avg", start=GMTIME, limit=10) == answer
    check(http, "GET", STREAM_PATH + "/sampling", {"interval": "60", "type": "avg", "start": ISO, "limit": "10"},
          calls=3)


def test_stream_stats_sends_query_params_not_a_body():
    answer = {"end": ISO, "stats": {"count": 1.0, "min": 3.0, "max": 3.0, "avg": 3.0, "stddev": 0.0}}
    client, http = make()
    stream = stream_of(client, http)
    http.reply(200, answer)
    assert stream.stats(start=GMTIME, end="2015-04-21T04:36:42Z", min=0, max=100) == answer
    check(http, "GET", STREAM_PATH + "/stats",
          {"start": ISO, "end": "2015-04-21T04:36:42.000Z", "min": "0", "max": "100"}, None, calls=3)


def test_add_value_without_timestamp_is_stamped_by_the_client_never_the_server():
    # README "Timestamps": every value this client writes carries the client's stamp, so a
    # value written alone cannot share a millisecond with a batch the client stamped.
    client, http = make()
    stream = stream_of(client, http)
    http.reply(202, ACCEPTED).reply(202, ACCEPTED)
    assert stream.add_value(21.5) == ACCEPTED
    first = json.loads(http.calls[-1][2])
    assert stream.add_value("23.5") == ACCEPTED
    second = json.loads(http.calls[-1][2])
    check(http, "PUT", STREAM_PATH + "/value", body={"value": "23.5", "timestamp": second["timestamp"]}, calls=4)
    assert first["value"] == 21.5
    stamps = [m2x_micro.parse_iso8601(first["timestamp"]), m2x_micro.parse_iso8601(second["timestamp"])]
    assert stamps[0] < stamps[1], stamps
    assert abs(stamps[1] - client.now_ms()) < 60000, stamps


def test_a_timestamp_given_as_none_is_stamped_by_the_client_too():
    # Code ported from m2x-python passes timestamp=None: the server must not stamp it either.
    client, http = make()
    stream = stream_of(client, http)
    device = device_of(client, http)
    http.reply(202, ACCEPTED).reply(202, ACCEPTED).reply(202, ACCEPTED)
    stream.add_value(1, None)
    stream.add_value(2, timestamp=None)
    device.update_location(latitude=1, longitude=2, timestamp=None)
    stamps = [json.loads(call[2])["timestamp"] for call in http.calls[-3:]]
    assert len(set(stamps)) == 3 and None not in stamps, stamps


def test_add_value_with_timestamp_sends_it_normalised():
    client, http = make()
    stream = stream_of(client, http)
    for ts in (GMTIME, LOCAL_SECS, "2015-04-21T03:36:42Z", "2015-04-20T23:36:42.000-04:00"):
        http.reply(202, ACCEPTED)
        assert stream.add_value(7, ts) == ACCEPTED
        check(http, "PUT", STREAM_PATH + "/value", body={"value": 7, "timestamp": ISO})
    http.reply(202, ACCEPTED)
    stream.add_value(8, timestamp="2015-04-21T03:36:42.123456Z")
    check(http, "PUT", STREAM_PATH + "/value", body={"value": 8, "timestamp": "2015-04-21T03:36:42.123Z"}, calls=7)


def test_update_value_sends_the_same_request_as_add_value():
    client, http = make()
    stream = stream_of(client, http)
    http.reply(202, ACCEPTED).reply(202, ACCEPTED)
    assert stream.update_value(9, GMTIME) == ACCEPTED
    check(http, "PUT", STREAM_PATH + "/value", body={"value": 9, "timestamp": ISO}, calls=3)
    assert stream.update_value(10) == ACCEPTED
    stamp = json.loads(http.calls[-1][2])["timestamp"]  # the client's now, as add_value
    check(http, "PUT", STREAM_PATH + "/value", body={"value": 10, "timestamp": stamp}, calls=4)


def test_post_values_posts_list_with_normalised_timestamps():
    client, http = make()
    stream = stream_of(client, http)
    http.reply(202, ACCEPTED)
    result = stream.post_values([
        {"timestamp": GMTIME, "value": 1},
        {"timestamp": "2015-04-21T03:36:43.5Z", "value": 2.5},
        {"timestamp": LOCAL_SECS + 2, "value": "3"},
    ])
    check(http, "POST", STREAM_PATH + "/values", body={"values": [
        {"timestamp": ISO, "value": 1},
        {"timestamp": "2015-04-21T03:36:43.500Z", "value": 2.5},
        {"timestamp": "2015-04-21T03:36:44.000Z", "value": "3"},
    ]}, calls=3)
    assert result == ACCEPTED


def test_post_values_stamps_values_without_timestamp():
    client, http = make()
    stream = stream_of(client, http)
    http.reply(202, ACCEPTED)
    stream.post_values([{"value": 1}])
    sent = json.loads(http.calls[-1][2])["values"]
    check(http, "POST", STREAM_PATH + "/values", body={"values": sent}, calls=3)
    assert sent[0]["value"] == 1
    assert abs(m2x_micro.parse_iso8601(sent[0]["timestamp"]) - client.now_ms()) < 60000, sent


def test_delete_values_sends_from_and_end_in_body_204_gives_none():
    client, http = make()
    stream = stream_of(client, http)
    http.reply(204)
    assert stream.delete_values(GMTIME, "2015-04-21T04:36:42.25Z") is None
    check(http, "DELETE", STREAM_PATH + "/values", body={"from": ISO, "end": "2015-04-21T04:36:42.250Z"}, calls=3)


def test_stream_update_puts_and_returns_the_stream():
    client, http = make()
    stream = stream_of(client, http)
    http.reply(204)
    result = stream.update(display_name="Temp", unit={"label": "Celsius", "symbol": "C"})
    check(http, "PUT", STREAM_PATH, body={"display_name": "Temp", "unit": {"label": "Celsius", "symbol": "C"}}, calls=3)
    assert result is stream
    assert stream.display_name == "Temp" and stream.name == "temperature"


def test_stream_remove_deletes_204_gives_none():
    client, http = make()
    stream = stream_of(client, http)
    http.reply(204)
    assert stream.remove() is None
    check(http, "DELETE", STREAM_PATH, calls=3)


# --- Distribution, Collection, Key (spec 4.2, 4.5) -----------------------------------------


def test_distribution_devices_lists_device_handles():
    client, http = make((200, {"id": DIST_ID, "name": "D"}))
    dist = client.distribution(DIST_ID)
    http.reply(200, page("devices", [{"id": "d1", "serial": "s1"}], 1, 1, 10, 1))
    devices = dist.devices(limit=10, page=1)
    check(http, "GET", "/distributions/%s/devices" % DIST_ID, {"limit": "10", "page": "1"}, calls=2)
    assert [type(d) for d in devices] == [m2x_micro.Device]
    assert devices[0].id == "d1" and devices[0].path == "/devices/d1"
    assert client.pagination == {"total": 1, "pages": 1, "limit": 10, "current_page": 1}


def test_distribution_add_device_201_returns_the_new_device():
    created = {"id": "12f74d5878561bf1c19ea8942515c466", "serial": "foobar", "name": "Bar",
               "distribution_name": "Test Distribution"}
    client, http = make((200, {"id": DIST_ID, "name": "D"}))
    dist = client.distribution(DIST_ID)
    http.reply(201, created, {"Location": ENDPOINT + "/v2/devices/" + created["id"]})
    device = dist.add_device("foobar", name="Bar")
    check(http, "POST", "/distributions/%s/devices" % DIST_ID, body={"serial": "foobar", "name": "Bar"}, calls=2)
    assert type(device) is m2x_micro.Device
    assert device.data == created and device.path == "/devices/" + created["id"]
    http.reply(201, created)
    dist.add_device("only-serial")
    check(http, "POST", "/distributions/%s/devices" % DIST_ID, body={"serial": "only-serial"}, calls=3)


def test_distribution_update_and_remove():
    client, http = make((200, {"id": DIST_ID, "name": "D", "visibility": "public"}), (204,), (204,))
    dist = client.distribution(DIST_ID)
    assert dist.update(name="D2", visibility="private", description="x") is None
    check(http, "PUT", "/distributions/" + DIST_ID, body={"name": "D2", "visibility": "private", "description": "x"},
          calls=2)
    assert dist.name == "D2"
    assert dist.remove() is None
    check(http, "DELETE", "/distributions/" + DIST_ID, calls=3)


def test_collection_devices_lists_device_handles():
    client, http = make((200, {"id": COLL_ID, "name": "C"}))
    coll = client.collection(COLL_ID)
    http.reply(200, page("devices", [{"id": "d1"}, {"id": "d2"}], 2, 1, 100, 1))
    devices = coll.devices(limit=100)
    check(http, "GET", "/collections/%s/devices" % COLL_ID, {"limit": "100"}, calls=2)
    assert [d.id for d in devices] == ["d1", "d2"] and type(devices[0]) is m2x_micro.Device


def test_collection_add_and_remove_device_204_give_none():
    client, http = make((200, {"id": COLL_ID, "name": "C"}), (204,), (204,))
    coll = client.collection(COLL_ID)
    assert coll.add_device(DEV_ID) is None
    check(http, "PUT", "/collections/%s/devices/%s" % (COLL_ID, DEV_ID), calls=2)
    assert coll.remove_device(DEV_ID) is None
    check(http, "DELETE", "/collections/%s/devices/%s" % (COLL_ID, DEV_ID), calls=3)


def test_collection_update_and_remove():
    client, http = make((200, {"id": COLL_ID, "name": "C"}), (204,), (204,))
    coll = client.collection(COLL_ID)
    assert coll.update(name="C2", description="x", tags=["a"]) is None
    check(http, "PUT", "/collections/" + COLL_ID, body={"name": "C2", "description": "x", "tags": ["a"]}, calls=2)
    assert coll.name == "C2" and coll["tags"] == ["a"]
    assert coll.remove() is None
    check(http, "DELETE", "/collections/" + COLL_ID, calls=3)


def test_key_update_and_remove():
    client, http = make((200, {"key": "test-key", "name": "K", "permissions": ["GET"]}), (204,), (204,))
    key = client.key("test-key")
    assert key.update(name="K2", permissions=["GET", "PUT"]) is None
    check(http, "PUT", "/keys/test-key", body={"name": "K2", "permissions": ["GET", "PUT"]}, calls=2)
    assert key.name == "K2" and key.permissions == ["GET", "PUT"]
    assert key.remove() is None
    check(http, "DELETE", "/keys/test-key", calls=3)


def test_key_regenerate_takes_the_new_value_and_its_path_follows():
    client, http = make((200, {"key": "test-key", "name": "Test Bar"}))
    key = client.key("test-key")
    regenerated = {"name": "Test Bar", "key": "regenerated-key", "master": True, "permissions": ["GET"]}
    http.reply(201, regenerated, {"Location": "http://api-m2x.att.com/v2/keys/regenerated-key"})
    result = key.regenerate()
    check(http, "POST", "/keys/test-key/regenerate", calls=2)
    assert result is key  # regenerate() returns the handle, now holding the new key
    assert key.key == "regenerated-key" and key["key"] == "regenerated-key" and key.data == regenerated
    assert key.path == "/keys/regenerated-key"
    http.reply(204)
    key.update(name="New", permissions=["GET"])
    check(http, "PUT", "/keys/regenerated-key", body={"name": "New", "permissions": ["GET"]}, calls=3)


# --- bad input is refused before anything is sent ----------------------------------------


def test_bad_ids_values_and_timestamps_raise_before_a_request():
    client, http = make()
    device = m2x_micro.Device(client, {"id": DEV_ID})
    stream = m2x_micro.Stream(client, {"name": "t"}, "/devices/%s/streams" % DEV_ID)
    raises(ValueError, client.device, "")
    raises(TypeError, client.device, 123)
    raises(ValueError, device.stream, "")
    raises(ValueError, device.create_stream, "")
    raises(TypeError, stream.add_value, True)
    raises(TypeError, stream.add_value, None)
    raises(ValueError, stream.add_value, float("inf"))
    raises(ValueError, stream.add_value, 1, "2015-13-01T00:00:00Z")
    raises(ValueError, stream.delete_values, "yesterday", ISO)
    raises(TypeError, stream.post_values, {"value": 1})
    raises(TypeError, stream.post_values, [{"timestamp": ISO}])
    raises(TypeError, device.post_updates, values=[{"value": 1}])
    raises(ValueError, device.post_updates, values={"t": [{"value": float("nan")}]})
    raises(TypeError, device.update_metadata, [("a", 1)])
    assert http.calls == []
