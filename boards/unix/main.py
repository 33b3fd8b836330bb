# The demo on the MicroPython unix port, against config.M2X_ENDPOINT:
#   micropython main.py            the seed's scenario (creates the device, saves its id)
#   micropython main.py field N    N readings into the outbox, then one delivery attempt
#   micropython main.py check      whether the server holds every reading of the field runs
# Each run is a new process, as a board's reboot: the outbox on "flash" (./outbox) is all
# that carries readings from one run to the next.
import sys

import config
from client import make_client
from demo import demo, field_check, field_demo

client = make_client(config)
mode = sys.argv[1] if len(sys.argv) > 1 else "scenario"
if mode == "scenario":
    print("m2x-micro demo on %s %s against %s" % (
        sys.implementation.name, ".".join([str(v) for v in sys.implementation.version[:3]]), config.M2X_ENDPOINT))
    with open("device.txt", "w") as saved:
        saved.write(demo(client)["id"])
    print("demo finished")
else:
    with open("device.txt") as saved:
        device_id = saved.read()
    if mode == "field":
        field_demo(client, device_id, int(sys.argv[2]))
    elif not field_check(client, device_id):
        sys.exit(1)
