# Joining the WiFi network of config.py: a bounded number of tries at boot, with a message
# that says what went wrong, and a cheap check-and-retry for the device loop afterwards.
import time

import network

import config

_wlan = None


def _station():
    global _wlan
    if _wlan is None:
        _wlan = network.WLAN(network.STA_IF)
        _wlan.active(True)
    return _wlan


def _wrong_password(wlan):
    return wlan.status() == getattr(network, "STAT_WRONG_PASSWORD", None)


def _wait(wlan, ssid, wait_s):
    """Wait for an IP address; a message when there is none after wait_s seconds."""
    deadline = time.ticks_add(time.ticks_ms(), wait_s * 1000)
    while time.ticks_diff(deadline, time.ticks_ms()) > 0:
        if wlan.isconnected():
            return None
        if _wrong_password(wlan):
            return "the password for %r is wrong: fix WIFI_PASSWORD in config.py" % ssid
        if wlan.status() == getattr(network, "STAT_NO_AP_FOUND", None):
            return "no access point named %r is in range" % ssid
        time.sleep_ms(250)
    return "no IP address from %r after %d s (is DHCP on?)" % (ssid, wait_s)


def connect(tries=3, wait_s=15):
    """At boot: try to join config.WIFI_SSID; True once connected."""
    wlan = _station()
    ssid = config.WIFI_SSID
    for attempt in range(1, tries + 1):
        print("WiFi: connecting to %r (try %d of %d)" % (ssid, attempt, tries))
        wlan.connect(ssid, config.WIFI_PASSWORD)
        problem = _wait(wlan, ssid, wait_s)
        if problem is None:
            print("WiFi: connected to %r, IP %s" % (ssid, wlan.ifconfig()[0]))
            return True
        print("WiFi:", problem)
        if _wrong_password(wlan):
            return False  # trying again cannot help
    print("WiFi: not connected after %d tries; the device loop keeps its readings and retries" % tries)
    return False


def online():
    """For the device loop: whether the network is up; if not, start joining it again
    (without waiting: the loop comes back next round)."""
    wlan = _station()
    if not wlan.isconnected() and wlan.status() != getattr(network, "STAT_CONNECTING", None):
        wlan.connect(config.WIFI_SSID, config.WIFI_PASSWORD)
    return wlan.isconnected()
