# A fake `machine` for battery boards on the unix port: deepsleep(ms) says how long and ends
# the process, as the board stops there (it starts again from boot.py on waking).
import sys


def deepsleep(ms):
    print("deepsleep %d ms" % ms)
    sys.exit(0)
