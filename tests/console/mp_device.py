# The device of the console's browser tests, run on the MicroPython unix port with m2x_micro
# from source: it posts readings and handles commands (the boards' own handle_commands:
# SAY_HELLO is processed, anything else rejected) while a browser watches.
#   micropython mp_device.py KEY ENDPOINT DEVICE_ID MAILBOX
# At start it delivers an hour of readings (a minute apart, as an outbox would) and its
# location, then prints "ready". Then, every 0.2 s: each MAILBOX/*.json the test drops
# ({"temperature": 27.125}) is posted as one update and removed ("posted NAME"), and
# pending commands are handled.
import json
import math
import os
import sys
import time

from app import handle_commands
from m2x_micro import Device, M2XClient, M2XError, format_iso8601

HISTORY = 60
STEP_MS = 55000  # the oldest reading 54 minutes ago: inside "last hour" for a while


def say(text):
    print(text)


def history(now_ms):
    temperature, humidity = [], []
    for i in range(HISTORY):
        stamp = format_iso8601(now_ms - (HISTORY - 1 - i) * STEP_MS)
        temperature.append({"timestamp": stamp, "value": round(21 + 2 * math.sin(i / 9), 2)})
        humidity.append({"timestamp": stamp, "value": round(55 + 8 * math.cos(i / 7), 1)})
    return {"temperature": temperature, "humidity": humidity}


def main():
    key, endpoint, device_id, mailbox = sys.argv[1:5]
    client = M2XClient(key, endpoint, timeout=10)
    device = Device(client, {"id": device_id})
    device.post_updates(values=history(client.now_ms() - 1000))
    device.update_location(name="Greenhouse bench 3", latitude=48.8566, longitude=2.3522, elevation=35)
    say("ready")
    while True:
        try:
            for name in sorted(os.listdir(mailbox)):
                if not name.endswith(".json"):
                    continue
                path = mailbox + "/" + name
                with open(path) as f:
                    values = json.load(f)
                device.post_update(values=values)
                os.remove(path)
                say("posted " + name)
            handle_commands(device, say)
        except M2XError as e:
            say("error, carrying on: %s" % e)
        time.sleep(0.2)


main()
