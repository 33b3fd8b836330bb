# Runs first at power-up: join the WiFi network of config.py (see wifi.py).
import config
import wifi

wifi.connect(getattr(config, "WIFI_TRIES", 3), getattr(config, "WIFI_WAIT_S", 15))
