# boards/esp32 on the MicroPython unix port: boot.py against a fake access point, main.py's
# device loop against a real m2x_server and against none. The board files run from a copy
# in tmp_path: MicroPython looks first in the script's folder, where a developer's real
# config.py may sit.
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import m2x_micro
from micropython_tools import ROOT, run_micropython
from server_process import running_server

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


def device_board(tmp_path, endpoint, key, device_id, rounds=4, **more):
    # readings a few ms apart, delivered two at a time, an outbox on the board's "flash"
    settings = dict(WIFI_SSID="home", WIFI_PASSWORD="secret", M2X_KEY=key, M2X_ENDPOINT=endpoint,
                    DEVICE_ID=device_id, EVERY_S=0.005, BATCH=2, ROUNDS=rounds, OUTBOX_DIR=str(tmp_path / "outbox"))
    settings.update(more)
    return board(tmp_path, **settings)


def new_device(server, stream=True):
    device = server.request("POST", "/v2/devices", json={"name": "board", "visibility": "private"}).json()
    if stream:
        server.request("PUT", "/v2/devices/%s/streams/temperature" % device["id"], json={})
    return device


def stored_values(server, device):
    return server.request("GET", "/v2/devices/%s/streams/temperature/values" % device["id"]).json()["values"]


def queued(directory, endpoint="http://127.0.0.1:9"):
    """Readings waiting in the outbox of a board's directory."""
    code = ("from m2x_micro import M2XClient\nfrom m2x_micro.outbox import Outbox\n"
            "print('QUEUED', Outbox(M2XClient('k', %r), 'd', %r).pending())" % (endpoint, str(directory / "outbox")))
    done = run_micropython(["-c", code], [ROOT / "build"])
    return int(re.search(r"QUEUED (\d+)", done.stdout).group(1))


def test_main_delivers_readings_stamped_when_read_and_handles_commands(m2x_server, tmp_path):
    device = new_device(m2x_server)
    m2x_server.request("POST", "/v2/commands", json={"name": "SAY_HELLO", "targets": {"devices": [device["id"]]}})
    done = run_on(device_board(tmp_path, m2x_server.url, device["key"], device["id"]), "main.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.findall(r"delivered (\d+) readings", done.stdout) == ["2", "2"], done.stdout
    values = stored_values(m2x_server, device)
    assert len(values) == 4 and len({v["timestamp"] for v in values}) == 4
    commands = m2x_server.request("GET", "/v2/devices/%s/commands" % device["id"]).json()["commands"]
    assert [c["status"] for c in commands] == ["processed"]
    assert queued(tmp_path) == 0


def test_readings_taken_while_the_server_is_away_survive_a_reboot_and_arrive(m2x_server, tmp_path):
    device = new_device(m2x_server)
    away = run_on(device_board(tmp_path, "http://127.0.0.1:9", device["key"], device["id"]), "main.py")
    assert away.returncode == 0, away.stdout + away.stderr
    assert re.search(r"delivery failed \(.*\): 2 readings kept, next try in \d+ ms", away.stdout), away.stdout
    assert queued(tmp_path) == 4  # on flash, after the process (the board) ended
    back = run_on(device_board(tmp_path, m2x_server.url, device["key"], device["id"], rounds=3), "main.py")
    assert back.returncode == 0, back.stdout + back.stderr
    assert re.findall(r"delivered (\d+) readings", back.stdout) == ["5", "2"], back.stdout
    assert len(stored_values(m2x_server, device)) == 7
    assert queued(tmp_path) == 0


def test_main_sets_aside_readings_the_server_refuses_for_good(m2x_server, tmp_path):
    device = new_device(m2x_server, stream=False)  # no stream: 422, retrying cannot help
    done = run_on(device_board(tmp_path, m2x_server.url, device["key"], device["id"]), "main.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.findall(r"delivered 0 readings, (\d+) set aside", done.stdout) == ["2", "2"], done.stdout
    assert queued(tmp_path) == 0


def test_main_reconnects_wifi_lost_at_boot(m2x_server, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_WIFI", "late")  # the access point answers from the second try on
    device = new_device(m2x_server)
    done = run_on(device_board(tmp_path, m2x_server.url, device["key"], device["id"], rounds=5), "main.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(stored_values(m2x_server, device)) == 5  # offline at the 2nd reading, back at the 3rd
    assert queued(tmp_path) == 0


RUN_WITH_FAKE_MACHINE = "import sys, fake_machine\nsys.modules['machine'] = fake_machine\nexec(open(%r).read())"


def wake_up(directory, script="main.py"):
    return run_micropython(["-c", RUN_WITH_FAKE_MACHINE % str(directory / script)], [directory, FAKES, ROOT / "build"],
                           cwd=str(directory), timeout=60)


def test_a_battery_board_sleeps_again_whatever_went_wrong(tmp_path):
    directory = device_board(tmp_path, "http://127.0.0.1:9", "0" * 32, "0" * 32, DEEP_SLEEP_S=5, BATCH=1,
                             OUTBOX_DIR=str(tmp_path / "no such folder" / "outbox"))
    done = wake_up(directory)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "error, sleeping anyway: OSError" in done.stdout and "deepsleep 5000 ms" in done.stdout, done.stdout


def test_a_battery_board_sleeps_between_readings_and_delivers_every_batch(m2x_server, tmp_path):
    # Each wake-up is a new process, as after a deep sleep; machine.deepsleep is faked: it
    # says how long and ends the process, as the board would stop there.
    device = new_device(m2x_server)
    m2x_server.request("POST", "/v2/commands", json={"name": "SAY_HELLO", "targets": {"devices": [device["id"]]}})
    directory = device_board(tmp_path, m2x_server.url, device["key"], device["id"], DEEP_SLEEP_S=60, BATCH=3)
    counts = []
    for _ in range(7):
        for script in ("boot.py", "main.py"):
            done = wake_up(directory, script)
            assert done.returncode == 0, done.stdout + done.stderr
        assert "deepsleep 60000 ms" in done.stdout, done.stdout
        counts.append(len(stored_values(m2x_server, device)))
    assert counts == [0, 0, 3, 3, 3, 6, 6]
    commands = m2x_server.request("GET", "/v2/devices/%s/commands" % device["id"]).json()["commands"]
    assert [c["status"] for c in commands] == ["processed"]


WAKE_ON_AN_UNSET_CLOCK = """
import app
import battery
from m2x_micro import Device

class Client:
    # A board just powered up: its clock reads 2000 until sync_time() sets it.
    early_correction = None
    def __init__(self):
        self.known = False
        self.stamp = 946684800000
    def clock_known(self):
        return self.known
    def sync_time(self, set_rtc=False):
        self.known = True
        self.stamp = 1767225600000
        return self.stamp - 946684800000
    def stamp_ms(self):
        self.stamp += 1
        return self.stamp
    def request(self, method, path, query=None, body=None, data=None, length=None, **kw):
        if data is not None:
            print("POSTED", b"".join([bytes(chunk) for chunk in data]).decode())
        return {"commands": []} if method == "GET" else {"status": "accepted"}
    def _result(self, kind, answer, path):  # what a route makes of an answer: as it is here
        return answer

client = Client()
joins = []
for wake_up in range(3):
    battery.wake(client, "d1", %r, flush_every=3, online=lambda: joins.append(1) or True)
print("JOINED", len(joins), "SET ASIDE", len(app.open_outbox(client, "d1", %r).refused()))
"""


def test_a_battery_board_sets_its_clock_at_the_first_wake_up_so_no_reading_is_undatable(tmp_path):
    # Each wake-up is a new boot to the outbox: a reading stamped by a clock not yet set
    # could not be dated at the next one. So the first wake-up after power-up joins the
    # network to set the clock before reading.
    outbox = str(tmp_path / "outbox")
    done = run_micropython(["-c", WAKE_ON_AN_UNSET_CLOCK % (outbox, outbox)], [ROOT / "build"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "JOINED 2 SET ASIDE 0" in done.stdout, done.stdout  # to set the clock, then to deliver
    assert done.stdout.count('"timestamp":"2026-01-01T00:00:00.0') == 3, done.stdout


# --- https: the keep-alive transport, the CA in config.py ----------------------------------

def https_board(tmp_path, server, device, certs, **more):
    """A board whose config names the test CA's DER, copied to its "flash"."""
    shutil.copy(certs.ca_der, tmp_path / "ca.der")
    return device_board(tmp_path, "https://localhost:%d" % server.port, device["key"], device["id"],
                        CA=str(tmp_path / "ca.der"), **more)


@pytest.fixture
def https_server(tmp_path, tls_certs):
    with running_server(tmp_path / "https.sqlite3", tls_cert=tls_certs.good_cert, tls_key=tls_certs.good_key,
                        ca=tls_certs.ca_pem) as server:
        yield server


def test_main_delivers_over_verified_https_on_one_connection(https_server, tmp_path, tls_certs):
    device = new_device(https_server)
    https_server.request("POST", "/v2/commands", json={"name": "SAY_HELLO", "targets": {"devices": [device["id"]]}})
    accepted = https_server.connections_accepted
    done = run_on(https_board(tmp_path, https_server, device, tls_certs, ROUNDS=6), "main.py")
    assert done.returncode == 0, done.stdout + done.stderr
    # Three deliveries and their command polls, one TLS handshake.
    assert https_server.connections_accepted - accepted == 1
    assert len(stored_values(https_server, device)) == 6, done.stdout
    commands = https_server.request("GET", "/v2/devices/%s/commands" % device["id"]).json()["commands"]
    assert [c["status"] for c in commands] == ["processed"], done.stdout


def test_a_board_refuses_a_server_its_ca_did_not_sign(https_server, tmp_path, tls_certs):
    device = new_device(https_server)
    directory = https_board(tmp_path, https_server, device, tls_certs, ROUNDS=2)
    shutil.copy(tls_certs.unknown_ca_der, directory / "ca.der")
    done = run_on(directory, "main.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "unknown CA" in done.stdout and device["key"] not in done.stdout, done.stdout
    assert stored_values(https_server, device) == []
    assert queued(directory) == 2  # kept for a server it can trust


def faketime_library():
    found = sorted(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"))
    # No skip: `make setup` installs Debian's faketime; without it this test has not run.
    assert found, "libfaketime is missing: run `make setup` (Debian package faketime)"
    return str(found[0])


def test_a_battery_board_powered_up_with_its_clock_in_2000_delivers_over_verified_https(
        https_server, tmp_path, tls_certs, monkeypatch):
    # The board's clock (libfaketime, whose time file the fake RTC writes) reads 2000 after
    # power-up, and MicroPython's TLS checks the certificate's dates against it: the
    # transport must date the board from the server itself before its first verified
    # connection, and the readings must reach the server with real stamps.
    clock = tmp_path / "rtc"
    clock.write_text("@2000-01-01 00:00:00\n")
    monkeypatch.setenv("LD_PRELOAD", faketime_library())
    monkeypatch.setenv("FAKETIME_TIMESTAMP_FILE", str(clock))
    monkeypatch.setenv("FAKETIME_NO_CACHE", "1")
    monkeypatch.setenv("DONT_FAKE_MONOTONIC", "1")
    device = new_device(https_server)
    directory = https_board(tmp_path, https_server, device, tls_certs, DEEP_SLEEP_S=60, BATCH=3)
    started = time.time()
    for _ in range(3):
        for script in ("boot.py", "main.py"):
            done = wake_up(directory, script)
            assert done.returncode == 0, done.stdout + done.stderr
        assert "deepsleep 60000 ms" in done.stdout and "error" not in done.stdout, done.stdout
    stamps = sorted(m2x_micro.parse_iso8601(v["timestamp"]) / 1000 for v in stored_values(https_server, device))
    # Three wake-ups, a minute of deep sleep apart by the board's RTC (which keeps whole
    # seconds here).
    assert len(stamps) == 3, done.stdout
    assert started - 5 < stamps[0] < time.time() + 5, stamps
    assert [58 <= b - a <= 62 for a, b in zip(stamps, stamps[1:])] == [True, True], stamps
