# boards/esp32 on the MicroPython unix port: boot.py against a fake access point, main.py's
# device loop against a real m2x_server and against none. The board files run from a copy
# in tmp_path: MicroPython looks first in the script's folder, where a developer's real
# config.py may sit.
import re
import shutil
import subprocess

import pytest

from micropython_tools import ROOT, run_micropython

ESP32 = ROOT / "boards" / "esp32"
FAKES = ROOT / "tests" / "boards"


@pytest.fixture(scope="module", autouse=True)
def compiled_client_and_app():
    """build/m2x_micro.mpy and build/app.mpy, as a board has them."""
    subprocess.run(["make", "-s", "mpy"], cwd=str(ROOT), check=True)


def board(tmp_path, **settings):
    """tmp_path as a board's file system: the esp32 files and a config.py of settings."""
    for name in ("boot.py", "main.py", "wifi.py"):
        shutil.copy(ESP32 / name, tmp_path / name)
    (tmp_path / "config.py").write_text("".join("%s = %r\n" % item for item in settings.items()))
    return tmp_path


def run_on(directory, script):
    return run_micropython([str(directory / script)], [directory, FAKES, ROOT / "build"], timeout=60)


@pytest.mark.parametrize("mode, expected", [
    ("ok", r"WiFi: connected to 'home', IP 192\.168\.4\.2"),
    ("wrong_password", r"the password for 'home' is wrong"),
    ("no_ap", r"no access point named 'home' is in range(.|\n)*not connected after 2 tries"),
    ("no_ip", r"no IP address from 'home' after 1 s(.|\n)*not connected after 2 tries"),
])
def test_boot_joins_wifi_or_says_why_not(mode, expected, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_WIFI", mode)
    done = run_on(board(tmp_path, WIFI_SSID="home", WIFI_PASSWORD="secret", WIFI_TRIES=2, WIFI_WAIT_S=1), "boot.py")
    assert done.returncode == 0, done.stderr
    assert re.search(expected, done.stdout), done.stdout
    if mode == "wrong_password":
        assert "try 2 of 2" not in done.stdout  # a wrong password is not tried again


def test_boot_retries_a_network_whose_name_says_password(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_WIFI", "no_ap")
    done = run_on(board(tmp_path, WIFI_SSID="my password net", WIFI_PASSWORD="secret", WIFI_TRIES=2, WIFI_WAIT_S=1),
                  "boot.py")
    assert "not connected after 2 tries" in done.stdout, done.stdout


def device_board(tmp_path, endpoint, key, device_id, rounds=4):
    # readings a few ms apart, two to a request
    return board(tmp_path, WIFI_SSID="home", WIFI_PASSWORD="secret", M2X_KEY=key, M2X_ENDPOINT=endpoint,
                 DEVICE_ID=device_id, EVERY_S=0.005, BATCH=2, ROUNDS=rounds)


def new_device(server, stream=True):
    device = server.request("POST", "/v2/devices", json={"name": "board", "visibility": "private"}).json()
    if stream:
        server.request("PUT", "/v2/devices/%s/streams/temperature" % device["id"], json={})
    return device


def test_main_posts_batches_stamped_when_read_and_handles_commands(m2x_server, tmp_path):
    device = new_device(m2x_server)
    m2x_server.request("POST", "/v2/commands", json={"name": "SAY_HELLO", "targets": {"devices": [device["id"]]}})
    done = run_on(device_board(tmp_path, m2x_server.url, device["key"], device["id"]), "main.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "clock corrected by" in done.stdout
    values = m2x_server.request("GET", "/v2/devices/%s/streams/temperature/values" % device["id"]).json()["values"]
    assert len(values) == 4 and len({v["timestamp"] for v in values}) == 4
    commands = m2x_server.request("GET", "/v2/devices/%s/commands" % device["id"]).json()["commands"]
    assert [c["status"] for c in commands] == ["processed"]


def test_main_keeps_every_reading_while_the_server_is_away(tmp_path):
    done = run_on(device_board(tmp_path, "http://127.0.0.1:9", "0" * 32, "0" * 32), "main.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no server time yet" in done.stdout
    assert re.findall(r"will retry (\d+) readings", done.stdout) == ["2", "3", "4"]


def test_main_drops_readings_the_server_refuses_for_good(m2x_server, tmp_path):
    device = new_device(m2x_server, stream=False)  # no stream: 422, retrying cannot help
    done = run_on(device_board(tmp_path, m2x_server.url, device["key"], device["id"]), "main.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.findall(r"dropped (\d+) readings: HTTP 422", done.stdout) == ["2", "2"]


def test_main_reconnects_wifi_lost_at_boot(m2x_server, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_WIFI", "late")  # the access point answers from the second try on
    device = new_device(m2x_server)
    done = run_on(device_board(tmp_path, m2x_server.url, device["key"], device["id"], rounds=5), "main.py")
    assert done.returncode == 0, done.stdout + done.stderr
    values = m2x_server.request("GET", "/v2/devices/%s/streams/temperature/values" % device["id"]).json()["values"]
    assert len(values) == 5  # offline at the 2nd reading, back at the 3rd: the 3 posted then, 2 more later


def test_readings_taken_before_the_clock_is_set_move_with_it():
    code = ("import app\n"
            "class Client:\n"
            "    def sync_time(self, set_rtc=False): return 3600000\n"
            "readings = [[946684800000, 1], [946684800010, 2]]\n"
            "print(app._sync_clock(Client(), readings), readings)\n")
    done = run_micropython(["-c", code], [ROOT / "build"])
    assert done.stdout.splitlines()[-1] == "True [[946688400000, 1], [946688400010, 2]]", done.stdout + done.stderr
