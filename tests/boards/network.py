# A fake `network` for running boards/esp32 on the unix port. FAKE_WIFI picks what the
# access point does: ok, wrong_password, no_ap, no_ip, or late (no answer to the first
# connect, joins on the next). Status numbers are the ESP32's.
import os

STA_IF = 0
STAT_IDLE = 1000
STAT_CONNECTING = 1001
STAT_GOT_IP = 1010
STAT_NO_AP_FOUND = 201
STAT_WRONG_PASSWORD = 202
STAT_CONNECT_FAIL = 203

MODE = os.getenv("FAKE_WIFI") or "ok"
CONNECTS = []


class WLAN:
    def __init__(self, interface):
        self.joined = False

    def active(self, on=None):
        return True

    def connect(self, ssid, password):
        CONNECTS.append(ssid)
        self.joined = MODE == "ok" or (MODE == "late" and len(CONNECTS) > 1)

    def isconnected(self):
        return self.joined

    def status(self):
        if not CONNECTS:
            return STAT_IDLE
        if self.joined:
            return STAT_GOT_IP
        return {"wrong_password": STAT_WRONG_PASSWORD, "no_ap": STAT_NO_AP_FOUND}.get(MODE, STAT_IDLE)

    def ifconfig(self):
        return ("192.168.4.2", "255.255.255.0", "192.168.4.1", "192.168.4.1")

    def disconnect(self):
        self.joined = False
