# Copy to config.py (git-ignored) and fill in. `make deploy BOARD=esp32` copies it to the board.
WIFI_SSID = "my-network"
WIFI_PASSWORD = "my-password"

# A device key (the device's "key" field) is enough for the device loop.
M2X_KEY = "0123456789abcdef0123456789abcdef"
# Your m2x_server (`make server` prints its address; use the computer's LAN address).
M2X_ENDPOINT = "http://192.168.1.10:8080"
# For an https server: the CA's certificate in DER, copied to the board (README, "TLS on a
# board"). The board then checks the server against it, keeps one connection open and
# sets its clock from that server after power-up.
# M2X_ENDPOINT = "https://m2x.example.lan:8443"
# CA = "ca.der"
DEVICE_ID = "0123456789abcdef0123456789abcdef"

EVERY_S = 10  # seconds between readings
BATCH = 6  # deliver once this many readings are queued
# Optional:
# WIFI_TRIES = 3, WIFI_WAIT_S = 15 (per try)
# ROUNDS = None (readings before main.py ends; None: forever)
# OUTBOX_DIR = "outbox" (where readings wait on flash; 64 KiB at most, the oldest go first)
# DEEP_SLEEP_S = 60 (battery boards: deep sleep between readings instead of EVERY_S;
#                    the WiFi is joined only every BATCH wake-ups, to deliver)
