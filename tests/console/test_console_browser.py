"""The web console in a real browser (headless Chromium), against a real m2x_server, with a
real device: m2x_micro on the MicroPython unix port, posting readings and handling commands
while the page watches. Each test saves screenshots under build/console/."""

import csv
import io
import json
import os
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest

from console_browser import wait_until
from micropython_tools import ROOT, tool

DEVICE_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mp_device.py")
LIVE_VALUE = 21.875  # three decimals: the history has two, so it can only come from the live post


def create_device(server, name, streams=(), **fields):
    device = server.request("POST", "/v2/devices", json=dict(name=name, visibility="private", **fields)).json()
    for stream, body in streams:
        assert server.request("PUT", "/v2/devices/%s/streams/%s" % (device["id"], stream), json=body).status_code == 201
    return device


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (moment.microsecond // 1000)


@pytest.fixture
def board(console, tmp_path):
    """A device record with two streams, and the MicroPython process acting as that device."""
    server = console.server
    device = create_device(server, "greenhouse-1", [
        ("temperature", {"unit": {"label": "celsius", "symbol": "°C"}}),
        ("humidity", {"unit": {"label": "percent", "symbol": "%"}}),
    ], serial="GH-001", tags=["lab"], description="Tomatoes, bench 3")
    mailbox = tmp_path / "mailbox"
    mailbox.mkdir()
    out_path = tmp_path / "device.out"
    env = dict(os.environ, MICROPYPATH=":".join([str(ROOT), str(ROOT / "boards" / "common"), ".frozen"]))
    with open(out_path, "w") as out:
        process = subprocess.Popen([tool("micropython"), DEVICE_SCRIPT, device["key"], server.url, device["id"],
                                    str(mailbox)], stdout=out, stderr=subprocess.STDOUT, env=env)
    board = Board(device, process, mailbox, out_path)
    try:
        wait_until(lambda: board.said("ready"), "the device to deliver its history")
        yield board
    finally:
        process.kill()
        process.wait()


class Board:
    def __init__(self, device, process, mailbox, out_path):
        self.device = device
        self.process = process
        self.mailbox = mailbox
        self.out_path = out_path
        self.posts = 0

    def said(self, text):
        output = self.out_path.read_text()
        if self.process.poll() is not None:
            raise AssertionError("the device stopped (%s):\n%s" % (self.process.returncode, output))
        return text in output

    def post(self, values):
        """Has the device post {"stream": value, ...} as one update; returns at once."""
        self.posts += 1
        name = "%04d.json" % self.posts
        (self.mailbox / (name + ".tmp")).write_text(json.dumps(values))
        os.rename(str(self.mailbox / (name + ".tmp")), str(self.mailbox / name))  # whole, never half-written
        return name


def sign_in_and_open_device(console, device):
    console.open()
    console.sign_in(console.server.master_key)
    console.find("#devices a.device-link")
    link = console.wait_text("#devices a.device-link", device["name"])
    link.click()
    console.wait_text("#device-name", device["name"])


def test_sign_in_shows_the_devices_and_a_wrong_key_says_why(console):
    for name in ("greenhouse-1", "cellar", "weather-station"):
        create_device(console.server, name)
    console.open()
    assert console.find("#api-key").get_attribute("type") == "password"
    console.screenshot("sign-in")

    console.sign_in("0123456789abcdef0123456789abcdef")
    message = console.wait_text("#sign-in-message", "not accepted")
    assert "The API key is not valid" in message.text
    assert console.session_key() is None

    console.sign_in(console.server.master_key)
    console.wait_text("#devices", "weather-station")
    names = [a.text for a in console.find_all("#devices a.device-link")]
    assert names == ["cellar", "greenhouse-1", "weather-station"]  # sorted by name
    assert console.text("#devices-summary") == "3 devices"
    # The key is in this tab's sessionStorage, and in no URL the browser went to.
    assert console.session_key() == console.server.master_key
    assert console.server.master_key not in console.driver.current_url
    history = console.driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert history and not any(console.server.master_key in url for url in history)
    console.screenshot("devices")


def test_devices_search_and_paging(console):
    for i in range(23):
        create_device(console.server, "sensor-%02d" % i)
    create_device(console.server, "gateway", serial="GW-7")
    console.open()
    console.sign_in(console.server.master_key)
    console.wait_text("#devices-summary", "24 devices")
    assert len(console.find_all("#devices tbody tr")) == 20
    assert "Page 1 of 2" in console.text(".pager")
    console.find(".pager button:last-child").click()  # Next
    console.wait_text(".pager", "Page 2 of 2")
    assert [a.text for a in console.find_all("#devices a.device-link")] == ["sensor-19", "sensor-20", "sensor-21",
                                                                            "sensor-22"]
    search = console.find("#device-search")
    search.clear()
    search.send_keys("gw-7")  # the serial, case-insensitive
    console.find("form.search button[type=submit]").click()
    console.wait_text("#devices-summary", "1 device matching")
    assert [a.text for a in console.find_all("#devices a.device-link")] == ["gateway"]


def test_a_refused_key_returns_to_the_sign_in_with_the_reason(console):
    device = create_device(console.server, "lonely")
    console.open()
    console.sign_in(device["key"])  # a device key cannot list devices
    assert "needs a master key" in console.wait_text("#sign-in-message", "cannot list devices").text
    console.sign_in(console.server.master_key)
    console.wait_text("#devices", "lonely")
    # The key stops working (regenerated elsewhere): the next refresh goes back to the sign-in.
    old_key = console.server.master_key
    assert console.server.request("POST", "/v2/keys/%s/regenerate" % old_key).status_code == 201
    message = console.wait_text("#sign-in-message", "did not accept this API key")
    assert "sign in again" in message.text
    assert console.session_key() is None


def test_a_devices_values_appear_live_and_its_commands_are_processed(console, board):
    device = board.device
    sign_in_and_open_device(console, device)
    chart = console.wait_text('.chart-card[data-stream="temperature"] .chart-caption', "values")
    assert int(chart.text.split(": ")[1].split()[0]) >= 50  # the device's hour of history
    assert console.find_all('.chart-card[data-stream="humidity"] svg.chart')
    console.wait_text("#location", "Greenhouse bench 3")

    # The device posts a value; it shows without a reload, in the table and in the chart.
    console.driver.execute_script("window.notReloaded = true")
    board.post({"temperature": LIVE_VALUE, "humidity": 49.75})  # humidity's history has one decimal
    console.wait_text('#streams tr[data-stream="temperature"] .latest-value', "21.875 °C", timeout=10)
    console.wait_text('.chart-card[data-stream="temperature"] .newest-label', "21.875 °C", timeout=10)
    console.wait_text('.chart-card[data-stream="humidity"] .newest-label', "49.75 %", timeout=10)
    assert console.driver.execute_script("return window.notReloaded") is True
    assert board.said("posted 0001.json")
    console.screenshot("device")

    # A command sent from the page: the device processes it, and the page shows it.
    console.find("#command-name").send_keys("SAY_HELLO")
    console.find("#command-data").send_keys('{"greeting": "hi"}')
    console.find("#send-command").click()
    console.wait_text("#command-message", "Sent “SAY_HELLO”")
    console.wait_text("#commands tbody tr", "SAY_HELLO")
    console.wait_text("#commands .command-status", "processed", timeout=10)
    assert board.said('processed "SAY_HELLO"')
    # One the device does not know: rejected.
    console.find("#command-name").send_keys("SELF_DESTRUCT")
    console.find("#send-command").click()
    console.wait_text("#commands .command-status", "rejected", timeout=10)
    statuses = console.driver.execute_script(  # in one go: the rows may refresh meanwhile
        "return [...document.querySelectorAll('#commands tbody tr')]"
        ".map(row => [row.querySelector('code').textContent, row.querySelector('.command-status').textContent])")
    assert statuses == [["SELF_DESTRUCT", "rejected"], ["SAY_HELLO", "processed"]]  # newest first
    console.driver.execute_script("window.scrollTo(0, 0)")  # the commands are in view beside the charts
    console.screenshot("commands")

    # The request log shows the device's own requests.
    console.driver.execute_script("document.getElementById('log').scrollIntoView()")
    console.find("#log summary").click()
    console.wait_text("#log tbody", "POST /devices/%s/update" % device["id"])


def test_csv_exports_hold_the_values(console, board):
    device = board.device
    sign_in_and_open_device(console, device)
    board.post({"temperature": LIVE_VALUE})
    console.wait_text('#streams tr[data-stream="temperature"] .latest-value', "21.875", timeout=10)
    stored = console.server.request("GET", "/v2/devices/%s/streams/temperature/values" % device["id"]).json()["values"]

    # One stream: built in the browser from every page of the range's values.
    button = console.find('#streams tr[data-stream="temperature"] button.csv')
    text = console.download(button.click, "temperature")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["timestamp", "temperature"]
    # Newest first, numbers as the browser reads JSON (19.0 is 19).
    assert [(row[0], float(row[1])) for row in rows[1:]] == [(v["timestamp"], v["value"]) for v in stored]
    assert rows[1][1] == "21.875"
    console.wait_text("#export-message", "%d values" % len(stored))

    # The whole device: the API's export job (values/export.csv), fetched and saved.
    text = console.download(console.find("#export-device").click, "all-streams")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["timestamp", "temperature", "humidity"]
    by_time = {row[0]: row[1:] for row in rows[1:]}
    assert all(float(by_time[v["timestamp"]][0]) == v["value"] for v in stored)
    assert len(rows) - 1 == len(stored)  # the history's humidity shares the temperature's stamps


def test_long_ranges_are_sampled_on_the_server_and_a_csv_holds_every_page(console):
    server = console.server
    device = create_device(server, "busy", [("level", {})])
    now = datetime.now(timezone.utc)
    values = [{"timestamp": iso(now - timedelta(seconds=60 * i)), "value": i % 50} for i in range(1200)]
    assert server.request("POST", "/v2/devices/%s/streams/level/values" % device["id"],
                          json={"values": values}).status_code == 202
    sign_in_and_open_device(console, device)
    # The last hour holds 60 values (the 61st is an hour old by the time the page asks):
    # drawn as they are, a dot each.
    caption = console.wait_text('.chart-card[data-stream="level"] .chart-caption', "Last hour")
    assert caption.text == "Last hour: 60 values"
    assert len(console.find_all('.chart-card[data-stream="level"] .dots circle')) == 60
    # The last day holds 1200: averages over 5-minute buckets (a day / 300 points, rounded
    # up to a round bucket), computed by the server.
    console.find('button[data-range="day"]').click()
    caption = console.wait_text('.chart-card[data-stream="level"] .chart-caption', "Last day")
    assert "averages of 5 min (sampled on the server)" in caption.text
    points = int(caption.text.split(": ")[1].split()[0])
    assert 240 <= points <= 241  # 20 hours of values
    path = console.find('.chart-card[data-stream="level"] path.line').get_attribute("d")
    assert path.count("L") + 1 == points
    # The stream's CSV over that day: two pages of the API's values (1000 a page), all kept.
    text = console.download(console.find('#streams tr[data-stream="level"] button.csv').click, "level")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["timestamp", "level"]
    assert [(row[0], int(row[1])) for row in rows[1:]] == [(v["timestamp"], v["value"]) for v in values]
    console.wait_text("#export-message", "1200 values")
    # A from-to range in the past.
    console.find('button[data-range="custom"]').click()
    start = time.localtime(time.time() - 6 * 3600)
    end = time.localtime(time.time() - 5 * 3600)
    for field, moment in (("#range-from", start), ("#range-to", end)):
        console.driver.execute_script("arguments[0].value = arguments[1]", console.find(field),
                                      time.strftime("%Y-%m-%dT%H:%M:%S", moment))
    console.find(".custom-range button[type=submit]").click()
    caption = console.wait_text('.chart-card[data-stream="level"] .chart-caption', "From – to")
    assert caption.text in ("From – to: 60 values", "From – to: 61 values")
