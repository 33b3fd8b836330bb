# boards/esp32 on the MicroPython unix port: boot.py against a fake access point, main.py's
# device loop against a real m2x_server (and against none).
import re

import pytest

from micropython_tools import ROOT, run_micropython

ESP32 = ROOT / "boards" / "esp32"


def write_config(directory, **settings):
    (directory / "config.py").write_text("".join("%s = %r\n" % item for item in settings.items()))


@pytest.mark.parametrize("mode, expected", [
    ("ok", r"WiFi: connected to 'home', IP 192\.168\.4\.2"),
    ("wrong_password", r"the password for 'home' is wrong"),
    ("no_ap", r"no access point named 'home' is in range(.|\n)*giving up after 2 tries"),
    ("no_ip", r"got no IP address in 1 s(.|\n)*giving up after 2 tries"),
])
def test_boot_joins_wifi_or_says_why_not(mode, expected, tmp_path, monkeypatch):
    write_config(tmp_path, WIFI_SSID="home", WIFI_PASSWORD="secret", WIFI_TRIES=2, WIFI_WAIT_S=1)
    monkeypatch.setenv("FAKE_WIFI", mode)
    done = run_micropython([str(ESP32 / "boot.py")], [tmp_path, ROOT / "tests" / "boards"], timeout=60)
    assert done.returncode == 0, done.stderr
    assert re.search(expected, done.stdout), done.stdout


def run_main(tmp_path, endpoint, key, device_id, rounds):
    import subprocess
    subprocess.run(["make", "-s", "mpy"], cwd=str(ROOT), check=True)
    # readings a few ms apart: one value per stream and timestamp, as on the server
    write_config(tmp_path, M2X_KEY=key, M2X_ENDPOINT=endpoint, DEVICE_ID=device_id, EVERY_S=0.005, BATCH=2, ROUNDS=rounds)
    return run_micropython([str(ESP32 / "main.py")], [tmp_path, ROOT / "build"], timeout=60)


def test_main_posts_batches_stamped_at_capture_and_handles_commands(m2x_server, tmp_path):
    device = m2x_server.request("POST", "/v2/devices", json={"name": "board", "visibility": "private"}).json()
    m2x_server.request("PUT", "/v2/devices/%s/streams/temperature" % device["id"], json={})
    m2x_server.request("POST", "/v2/commands", json={"name": "SAY_HELLO", "targets": {"devices": [device["id"]]}})
    done = run_main(tmp_path, m2x_server.url, device["key"], device["id"], rounds=4)
    assert done.returncode == 0, done.stdout + done.stderr
    values = m2x_server.request("GET", "/v2/devices/%s/streams/temperature/values" % device["id"]).json()["values"]
    assert len(values) == 4 and len({v["timestamp"] for v in values}) == 4
    commands = m2x_server.request("GET", "/v2/devices/%s/commands" % device["id"]).json()["commands"]
    assert [c["status"] for c in commands] == ["processed"]


def test_main_keeps_going_without_a_server(tmp_path):
    done = run_main(tmp_path, "http://127.0.0.1:9", "0" * 32, "0" * 32, rounds=4)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no server time yet" in done.stdout
    assert done.stdout.count("will retry") == 3  # at 2, 3 and 4 readings: nothing is dropped
