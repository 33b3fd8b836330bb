# Runs first at power-up: join the WiFi network named in config.py, with a bounded number
# of tries and a message that says what went wrong.
import time

import network

import config


def _status_name(wlan):
    status = wlan.status()
    for name in ("STAT_WRONG_PASSWORD", "STAT_NO_AP_FOUND", "STAT_CONNECT_FAIL"):
        if status == getattr(network, name, None):
            return name
    return None


def connect(ssid, password, tries=3, wait_s=15):
    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    for attempt in range(1, tries + 1):
        if wlan.isconnected():
            print("WiFi: connected to %r, IP %s" % (ssid, wlan.ifconfig()[0]))
            return wlan
        print("WiFi: connecting to %r (try %d of %d)" % (ssid, attempt, tries))
        wlan.connect(ssid, password)
        deadline = time.ticks_add(time.ticks_ms(), wait_s * 1000)
        while not wlan.isconnected() and time.ticks_diff(deadline, time.ticks_ms()) > 0:
            failure = _status_name(wlan)
            if failure == "STAT_WRONG_PASSWORD":
                print("WiFi: the password for %r is wrong: fix WIFI_PASSWORD in config.py" % ssid)
                return None
            if failure == "STAT_NO_AP_FOUND":
                print("WiFi: no access point named %r is in range" % ssid)
                break
            time.sleep_ms(250)
        else:
            if not wlan.isconnected():
                print("WiFi: joined %r but got no IP address in %d s (is DHCP on?)" % (ssid, wait_s))
        if not wlan.isconnected():
            wlan.disconnect()
            time.sleep(2)
    if wlan.isconnected():
        return wlan
    print("WiFi: giving up after %d tries; main.py keeps its readings and retries the network" % tries)
    return None


connect(config.WIFI_SSID, config.WIFI_PASSWORD, getattr(config, "WIFI_TRIES", 3), getattr(config, "WIFI_WAIT_S", 15))
