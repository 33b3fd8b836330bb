# A fake `machine` for battery boards on the unix port: deepsleep(ms) says how long and ends
# the process, as the board stops there (it starts again from boot.py on waking).
# Under libfaketime with FAKETIME_TIMESTAMP_FILE (a board's clock, see tests/test_boards.py)
# the RTC is that file: RTC().datetime() sets it, and a deep sleep moves it on, as a real
# RTC counts through the sleep.
import os
import sys
import time

CLOCK_FILE = os.getenv("FAKETIME_TIMESTAMP_FILE")


def _set_clock(year, month, day, hour, minute, second):
    with open(CLOCK_FILE, "w") as clock:
        clock.write("@%04d-%02d-%02d %02d:%02d:%02d\n" % (year, month, day, hour, minute, second))


class RTC:
    def datetime(self, fields):
        # (year, month, day, weekday, hour, minute, second, subseconds)
        _set_clock(fields[0], fields[1], fields[2], fields[4], fields[5], fields[6])


def deepsleep(ms):
    print("deepsleep %d ms" % ms)
    if CLOCK_FILE:
        _set_clock(*time.gmtime(time.time() + ms // 1000)[:6])
    sys.exit(0)
