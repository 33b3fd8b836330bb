"""`python -m m2x_server` as a user runs it: start-up lines, keys, restarts, signals, TLS."""

import signal
import subprocess
import sys

import requests

from server_process import REPO, SubprocessServer, running_server


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "m2x_server", *args], cwd=str(REPO),
                          capture_output=True, text=True, timeout=30)


def create_device_with_value(server):
    device = server.request("POST", "/v2/devices", json={"name": "kept", "visibility": "private"}).json()
    server.request("PUT", "/v2/devices/%s/streams/t" % device["id"], json={})
    path = "/v2/devices/%s/streams/t/value" % device["id"]
    answer = server.request("PUT", path, key=device["key"], json={"value": 7, "timestamp": "2026-01-01T00:00:00Z"})
    assert answer.status_code == 202
    return device


def stored_values(server, device):
    answer = server.request("GET", "/v2/devices/%s/streams/t/values" % device["id"], key=device["key"])
    assert answer.status_code == 200, answer.text
    return [(value["timestamp"], value["value"]) for value in answer.json()["values"]]


def test_first_start_prints_the_new_master_key_then_the_listening_line(tmp_path):
    with running_server(tmp_path / "m2x.sqlite3", subprocess=True) as server:
        key_line, listening_line = server.startup_lines
        assert key_line == "master key: %s" % server.master_key and len(server.master_key) == 32
        assert listening_line == "m2x_server listening on http://127.0.0.1:%d" % server.port
        assert server.port > 0
        assert server.request("GET", "/v2/devices").status_code == 200
        assert server.request("GET", "/v2/devices", key="wrong").status_code == 401


def test_restart_reuses_the_database_with_its_keys_and_data(tmp_path):
    server = SubprocessServer(tmp_path / "m2x.sqlite3")
    server.start()
    try:
        device = create_device_with_value(server)
        assert server.stop() == 0  # SIGTERM: a clean exit
        server.start()
        assert len(server.startup_lines) == 1, "no new master key for an existing database"
        assert stored_values(server, device) == [("2026-01-01T00:00:00.000Z", 7)]
        assert server.request("GET", "/v2/devices/" + device["id"]).json()["name"] == "kept"
    finally:
        server.stop()


def test_in_process_restart_keeps_url_and_data(tmp_path):
    with running_server(tmp_path / "m2x.sqlite3") as server:
        device = create_device_with_value(server)
        url = server.url
        server.restart()
        assert server.url == url
        assert stored_values(server, device) == [("2026-01-01T00:00:00.000Z", 7)]


def test_a_write_answered_2xx_survives_a_killed_process(tmp_path):
    server = SubprocessServer(tmp_path / "m2x.sqlite3")
    server.start()
    try:
        device = create_device_with_value(server)
        server.process.kill()  # no chance to flush anything after the answer
        server.process.wait()
        server.process = None
        server.start()
        assert stored_values(server, device) == [("2026-01-01T00:00:00.000Z", 7)]
    finally:
        server.stop()


def test_master_key_option_sets_the_key_of_a_new_database(tmp_path):
    with running_server(tmp_path / "m2x.sqlite3", subprocess=True, master_key="my-own-key") as server:
        assert server.startup_lines[0] == "master key: my-own-key"
        assert server.request("GET", "/v2/devices", key="my-own-key").status_code == 200


def test_master_key_option_replaces_the_key_of_an_existing_database(tmp_path):
    db = tmp_path / "m2x.sqlite3"
    with running_server(db, subprocess=True, master_key="first-key") as server:
        create_device_with_value(server)
    with running_server(db, subprocess=True, master_key="second-key") as server:
        assert len(server.startup_lines) == 1
        assert server.request("GET", "/v2/devices", key="second-key").json()["total"] == 1
        assert server.request("GET", "/v2/devices", key="first-key").status_code == 401


def test_ctrl_c_stops_the_server_with_exit_status_0(tmp_path):
    server = SubprocessServer(tmp_path / "m2x.sqlite3")
    server.start()
    process = server.process
    process.send_signal(signal.SIGINT)
    assert process.wait(10) == 0
    server.process = None
    assert "Traceback" not in server.stderr_path.read_text()


def test_tls_serves_https(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    server = SubprocessServer(tmp_path / "m2x.sqlite3", extra_args=["--tls-cert", str(cert), "--tls-key", str(key)])
    server.start()
    try:
        assert server.url.startswith("https://127.0.0.1:")
        answer = requests.get(server.url + "/v2/devices", headers={"X-M2X-KEY": server.master_key},
                              verify=str(cert), timeout=10)
        assert answer.status_code == 200 and answer.json()["devices"] == []
        created = requests.post(server.url + "/v2/devices", json={"name": "d", "visibility": "public"},
                                headers={"X-M2X-KEY": server.master_key}, verify=str(cert), timeout=10)
        assert created.headers["Location"].startswith("https://")
    finally:
        assert server.stop() == 0


def test_tls_certificate_without_key_is_a_usage_error():
    result = run_cli("--tls-cert", "cert.pem")
    assert result.returncode == 2 and "--tls-key" in result.stderr


def test_unusable_database_path_is_an_error_not_a_traceback(tmp_path):
    result = run_cli("--port", "0", "--db", str(tmp_path / "missing-dir" / "m2x.sqlite3"))
    assert result.returncode == 2
    assert result.stderr.startswith("m2x_server: error:") and "Traceback" not in result.stderr


def test_port_in_use_is_an_error(tmp_path):
    with running_server(tmp_path / "m2x.sqlite3", subprocess=True) as server:
        result = run_cli("--port", str(server.port), "--db", str(tmp_path / "other.sqlite3"))
    assert result.returncode == 2 and "m2x_server: error:" in result.stderr
