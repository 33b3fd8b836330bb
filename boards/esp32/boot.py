# Runs first at power-up: join the WiFi network of config.py (see wifi.py). A battery board
# (DEEP_SLEEP_S set) joins only when main.py has readings to deliver.
import config
import wifi

if not getattr(config, "DEEP_SLEEP_S", None):
    wifi.connect(getattr(config, "WIFI_TRIES", 3), getattr(config, "WIFI_WAIT_S", 15))
