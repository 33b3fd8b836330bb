# The demo on the MicroPython unix port: the shared app's scenario against config.M2X_ENDPOINT.
import sys

import config
from app import demo
from m2x_micro import M2XClient

print("m2x-micro demo on %s %s against %s" % (
    sys.implementation.name, ".".join([str(v) for v in sys.implementation.version[:3]]), config.M2X_ENDPOINT))
demo(M2XClient(config.M2X_KEY, config.M2X_ENDPOINT, timeout=10))
print("demo finished")
