"""HTTP behaviour: HTTP/1.0 and keep-alive, headers on every answer, bad input, size limit,
concurrency, and MicroPython's own requests module as a client."""

import json
import socket
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import requests

from m2x_server.app import App

MIB = 1024 * 1024


def connect(server):
    url = urlsplit(server.url)
    return socket.create_connection((url.hostname, url.port), timeout=5)


def read_response(sock_file):
    """(status, headers with lower-case names, body) of one response read by Content-Length."""
    status, headers = read_head(sock_file)
    return status, headers, sock_file.read(int(headers["content-length"]))


def read_head(sock_file):
    """(status, headers with lower-case names) of a response, up to its body."""
    status_line = sock_file.readline().decode("latin-1")
    assert status_line.startswith("HTTP/1."), status_line
    headers = {}
    for line in iter(sock_file.readline, b"\r\n"):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers


def exchange(server, raw):
    """Send raw bytes, read one response, and check the server then closes the connection."""
    with connect(server) as sock:
        sock.sendall(raw)
        sock_file = sock.makefile("rb")
        status, headers, body = read_response(sock_file)
        assert sock_file.read() == b"", "the connection stays open after the answer"
    return status, headers, body


def test_http10_request_is_answered_and_the_connection_closed(m2x_server):
    status, headers, body = exchange(m2x_server, b"GET /v2/status HTTP/1.0\r\n\r\n")
    assert status == 200
    assert json.loads(body) == {"api": "OK", "triggers": "OK"}
    assert headers["content-length"] == str(len(body))
    assert headers["connection"] == "close"


def test_http11_keep_alive_serves_two_requests_on_one_socket(m2x_server):
    request = ("GET /v2/devices HTTP/1.1\r\nHost: test\r\nX-M2X-KEY: %s\r\n\r\n" % m2x_server.master_key).encode()
    with connect(m2x_server) as sock:
        sock_file = sock.makefile("rb")
        for _ in range(2):
            sock.sendall(request)
            status, headers, body = read_response(sock_file)
            assert status == 200 and json.loads(body)["devices"] == []
            assert "connection" not in headers


def test_urls_in_answers_use_the_host_the_client_addressed(m2x_server):
    request = ("POST /v2/devices HTTP/1.1\r\nHost: m2x.example:8080\r\nX-M2X-KEY: %s\r\n"
               "Content-Length: 36\r\nConnection: close\r\n\r\n" % m2x_server.master_key).encode()
    body = b'{"name":"n","visibility":"private"} '
    status, headers, answer = exchange(m2x_server, request + body)
    assert status == 201
    assert json.loads(answer)["url"].startswith("http://m2x.example:8080/v2/devices/")
    assert headers["location"] == json.loads(answer)["url"]


def test_a_host_header_without_port_means_the_servers_port(m2x_server):
    # MicroPython's requests 0.10 sends "Host: 127.0.0.1" without the port.
    request = ("POST /v2/devices HTTP/1.0\r\nHost: 127.0.0.1\r\nX-M2X-KEY: %s\r\n"
               "Content-Length: 35\r\n\r\n" % m2x_server.master_key).encode()
    status, headers, answer = exchange(m2x_server, request + b'{"name":"n","visibility":"private"}')
    assert status == 201
    assert headers["location"].startswith(m2x_server.url + "/v2/devices/")


def test_http10_keep_alive_is_granted_explicitly(m2x_server):
    with connect(m2x_server) as sock:
        sock_file = sock.makefile("rb")
        for _ in range(2):
            sock.sendall(b"GET /v2/status HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            status, headers, _ = read_response(sock_file)
            assert status == 200 and headers["connection"] == "keep-alive"


def test_every_kind_of_answer_has_content_length_and_version(api, m2x_server):
    device = api.device()
    api.stream(device["id"])
    base = "/devices/%s" % device["id"]
    calls = [
        ("GET", "/status", None, 200),
        ("GET", "/time/seconds", None, 200),
        ("POST", "/devices", {"name": "x", "visibility": "public"}, 201),
        ("PUT", base + "/streams/temperature/value", {"value": 1}, 202),
        ("PUT", base, {"name": "y", "visibility": "private"}, 204),
        ("GET", base + "/location", None, 204),
        ("GET", "/devices/" + "0" * 32, None, 404),
        ("POST", "/devices", {}, 422),
        ("POST", "/status", None, 405),
        ("GET", base + "/values/export.csv", None, 202),
    ]
    for method, path, body, status in calls:
        response = api.call(method, path, status, json=body)
        assert response.headers["Content-Length"] == str(len(response.content)), path
        assert response.headers["X-M2X-VERSION"], path
    no_key = api.call("GET", "/devices", 401, key=None)
    assert no_key.headers["Content-Length"] == str(len(no_key.content)) and no_key.headers["X-M2X-VERSION"]
    empty = api.call("DELETE", base, 204)
    assert empty.content == b"" and empty.headers["Content-Length"] == "0"
    assert "Content-Type" not in empty.headers


def test_malformed_request_line_gets_a_json_400(m2x_server):
    for raw in (b"GARBAGE\r\n\r\n", b"GET /v2/status HTTP/x.y\r\n\r\n", b"GET /v2/status\r\n\r\n"):
        status, headers, body = exchange(m2x_server, raw)
        assert status == 400, raw
        assert json.loads(body)["message"]
        assert headers["content-type"] == "application/json"


def test_unsupported_http_version_gets_a_json_answer(m2x_server):
    status, _, body = exchange(m2x_server, b"GET /v2/status HTTP/2.0\r\n\r\n")
    assert status == 505 and json.loads(body)["message"]


def test_malformed_json_body_gets_a_400_naming_the_problem(m2x_server):
    body = b'{"name": "x", "visibility": '
    request = ("POST /v2/devices HTTP/1.0\r\nX-M2X-KEY: %s\r\nContent-Type: application/json\r\n"
               "Content-Length: %d\r\n\r\n" % (m2x_server.master_key, len(body))).encode()
    status, _, answer = exchange(m2x_server, request + body)
    assert status == 400
    assert "JSON" in json.loads(answer)["message"]


def test_json_that_is_not_an_object_or_not_utf8_is_a_400(api):
    for body in (b"[1, 2]", b'"text"', b"\xff\xfe{}", b'{"value": NaN}'):
        response = api.call("POST", "/devices", 400, data=body, headers={"Content-Type": "application/json"})
        assert response.json()["message"]


def test_deeply_nested_json_or_a_lone_surrogate_is_a_400(api):
    device = api.device()
    api.stream(device["id"], "state", type="alphanumeric")
    headers = {"Content-Type": "application/json"}
    assert "deeply" in api.call("POST", "/devices", 400, data=b"[" * 100000, headers=headers).json()["message"]
    response = api.call("PUT", "/devices/%s/streams/state/value" % device["id"], 400,
                        data=b'{"value": "\\ud800"}', headers=headers)
    assert "surrogate" in response.json()["message"]
    assert api.values(device["id"], "state") == []


def test_numbers_beyond_64_bits_are_stored_as_floats_or_refused(api):
    device = api.device()
    api.stream(device["id"])
    path = "/devices/%s/streams/temperature/value" % device["id"]
    headers = {"Content-Type": "application/json"}
    api.call("PUT", path, 202, data=b'{"value": 100000000000000000000000000000}', headers=headers)
    assert api.values(device["id"], "temperature")[0]["value"] == 1e29
    body = b'{"value": 1' + b"0" * 400 + b"}"
    assert api.call("PUT", path, 422, data=body, headers=headers).json()["errors"] == {"value": ["not_numeric"]}


def test_invalid_content_length_is_a_400(m2x_server):
    # "\xb2" is "²", a digit to str.isdigit(); 5000 digits are beyond int()'s limit.
    for length in (b"ten", b"\xb2", b"-1", b"1" * 5000):
        request = b"POST /v2/devices HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + b"\r\n\r\n"
        status, headers, body = exchange(m2x_server, request)
        assert status == 400 and "Content-Length" in json.loads(body)["message"], length


def test_invalid_chunk_size_is_a_400(m2x_server):
    for size in (b"zz", b"-5", b"+5", b"0x5"):
        request = (b"POST /v2/devices HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                   + size + b"\r\nhello\r\n0\r\n\r\n")
        status, headers, body = exchange(m2x_server, request)
        assert status == 400 and "chunked" in json.loads(body)["message"], size


def test_body_over_one_mib_is_a_413_and_the_server_goes_on(api):
    response = api.call("POST", "/devices", 413, data=b" " * (MIB + 1), headers={"Content-Type": "application/json"})
    assert "larger" in response.json()["message"]
    api.get("/devices")


def test_body_of_exactly_one_mib_is_accepted(api):
    body = json.dumps({"name": "big", "visibility": "private"}).encode()
    body += b" " * (MIB - len(body))
    api.call("POST", "/devices", 201, data=body, headers={"Content-Type": "application/json"})


def test_chunked_request_body_is_read(api):
    def chunks():
        yield b'{"name": "chunked", '
        yield b'"visibility": "public"}'

    response = api.call("POST", "/devices", 201, data=chunks(), headers={"Content-Type": "application/json"})
    assert response.json()["name"] == "chunked"


def test_chunked_body_over_one_mib_is_a_413(api):
    def chunks():
        for _ in range(17):
            yield b" " * 65536

    api.call("POST", "/devices", 413, data=chunks())


def test_form_encoded_body_is_accepted(api):
    response = api.call("POST", "/devices", 201, data={"name": "form", "visibility": "public", "tags": "a,b"})
    assert response.json()["tags"] == ["a", "b"]


def test_json_body_labelled_as_form_data_is_read_as_json(api):
    body = b'{"name": "curl", "visibility": "public"}'
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    assert api.call("POST", "/devices", 201, data=body, headers=headers).json()["name"] == "curl"


def test_unknown_path_is_404_and_wrong_method_405_both_json(api):
    assert api.call("GET", "/nothing/here", 404).json()["message"]
    response = api.call("DELETE", "/status", 405)
    assert response.headers["Allow"] == "GET" and response.json()["message"]


def test_error_answers_carry_no_location(api):
    device = api.device()
    answers = [
        api.call("POST", "/commands", 422, json={"name": "X"}),
        api.call("GET", "/devices/%s/values/export.csv?streams=nope" % device["id"], 422),
        api.call("POST", "/devices", 422, json={"name": "x"}),
        api.call("PUT", "/devices/%s/streams/bad%%20name" % device["id"], 422),
    ]
    for response in answers:
        assert "Location" not in response.headers


def test_an_unexpected_exception_gives_a_json_500_and_the_server_goes_on(m2x_server, monkeypatch):
    def broken(self, request):
        raise RuntimeError("bug")

    monkeypatch.setattr(App, "handle", broken)
    response = m2x_server.request("GET", "/v2/status")
    assert response.status_code == 500 and response.json() == {"message": "Internal server error"}
    monkeypatch.undo()
    assert m2x_server.request("GET", "/v2/status").status_code == 200


def test_concurrent_writers_all_land(api, m2x_server):
    device = api.device()
    api.stream(device["id"])
    url = m2x_server.url + "/v2/devices/%s/streams/temperature/value" % device["id"]
    failures = []

    def writer(number):
        with requests.Session() as session:
            session.headers["X-M2X-KEY"] = m2x_server.master_key
            for index in range(50):
                # Half with timestamps, half without: server-timed writes must not collide.
                body = {"value": number * 100 + index}
                if index % 2:
                    body["timestamp"] = "2026-01-01T00:%02d:%02d.000Z" % (number, index)
                response = session.put(url, json=body, timeout=10)
                if response.status_code != 202:
                    failures.append(response.text)

    threads = [threading.Thread(target=writer, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    stored = api.values(device["id"], "temperature", limit=1000)
    assert sorted(value["value"] for value in stored) == sorted(n * 100 + i for n in range(4) for i in range(50))


def test_micropython_frozen_requests_talks_to_the_server(api, m2x_server):
    device = api.device()
    api.stream(device["id"])
    device_url = m2x_server.url + "/v2/devices/" + device["id"]
    script = """
import requests
key = {'X-M2X-KEY': %r}
r = requests.get(%r)
print(r.status_code, r.text)
r.close()
r = requests.put(%r, json={'value': '21.5'}, headers=key)
print(r.status_code, r.text)
r.close()
r = requests.get(%r, headers=key)
job_url = [value for name, value in r.headers.items() if name.lower() == 'location'][0]
r.close()
r = requests.get(job_url, headers=key)
csv_url = r.json()['result']['url']
r.close()
r = requests.get(csv_url)
print(r.status_code, r.text.splitlines()[0])
r.close()
""" % (device["key"], m2x_server.url + "/v2/status", device_url + "/streams/temperature/value",
       device_url + "/values/export.csv")
    micropython = Path(sys.executable).parent / "micropython"
    result = subprocess.run([str(micropython), "-c", script], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        '200 {"api":"OK","triggers":"OK"}', '202 {"status":"accepted"}', "200 timestamp,temperature"]
    assert [value["value"] for value in api.values(device["id"], "temperature")] == [21.5]


def filled(template, ids):
    """A route template with its {names} replaced by the ids of ids."""
    for name, value in ids.items():
        template = template.replace("{%s}" % name, value)
    return template


# Answers that change between two requests in a row: the log gains the request before, and
# each export makes a new job.
VOLATILE = ("/log", "/values/export.csv")


def test_head_is_answered_like_get_without_a_body_on_every_route(api, m2x_server):
    from m2x_server.routes import ROUTES
    device = api.device()
    api.stream(device["id"])
    api.put_value(device["id"], "temperature", 21.5)
    api.call("PUT", "/devices/%s/location" % device["id"], 202, json={"latitude": 1, "longitude": 2})
    api.call("PUT", "/devices/%s/metadata/room" % device["id"], json={"value": "lab"})
    command = api.call("POST", "/commands", 202, json={"name": "X", "targets": {"devices": [device["id"]]}})
    ids = {"device": device["id"], "stream": "temperature", "field": "room", "key": m2x_server.master_key,
           "command": command.headers["Location"].rsplit("/", 1)[-1],
           "distribution": api.call("POST", "/distributions", 201, json={"name": "d", "visibility": "private"}).json()["id"],
           "collection": api.call("POST", "/collections", 201, json={"name": "c"}).json()["id"],
           "job": "0" * 32, "file": "none.csv"}  # none: HEAD answers a 404 like GET too
    templates = sorted({route.template for route in ROUTES})
    with connect(m2x_server) as sock:  # one kept-alive connection: a HEAD that sent a body would garble the next answer
        sock_file = sock.makefile("rb")
        for template in templates:
            path = filled(template, ids)
            answers = {}
            for method in ("GET", "HEAD"):
                sock.sendall(("%s %s HTTP/1.1\r\nHost: test\r\nX-M2X-KEY: %s\r\n\r\n" % (
                    method, path, m2x_server.master_key)).encode())
                if method == "GET":
                    answers[method] = read_response(sock_file)
                else:
                    answers[method] = read_head(sock_file) + (b"",)
            (get_status, get_headers, body), (head_status, head_headers, _) = answers["GET"], answers["HEAD"]
            assert head_status == get_status, (path, head_status, get_status)
            assert head_headers.get("content-type") == get_headers.get("content-type"), path
            assert head_headers.get("x-m2x-version") == get_headers["x-m2x-version"], path
            if not path.endswith(VOLATILE):
                assert head_headers["content-length"] == str(len(body)), path



def test_a_server_shut_down_ends_its_kept_alive_connections(tmp_path):
    # As a process that exits would: the handler of a kept-alive connection must not go on
    # answering (with a closed database) after shutdown(), and its client must see the end.
    from server_process import running_server
    with running_server(tmp_path / "m2x.sqlite3") as server:
        sock = connect(server)
        sock.sendall(b"GET /v2/status HTTP/1.1\r\nHost: test\r\n\r\n")
        sock_file = sock.makefile("rb")
        assert read_response(sock_file)[0] == 200
        server.stop()
        assert sock_file.read() == b"", "the connection stayed open after shutdown"
        sock.close()
