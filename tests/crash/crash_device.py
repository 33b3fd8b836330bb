# The device loop that tests/test_crash.py kills with SIGKILL at random instants, run on the
# MicroPython unix port with the compiled package (MICROPYPATH=build:.frozen). Portable code.
#
#   micropython crash_device.py URL KEY DEVICE_ID DIRECTORY RUN SEED FLOOR_MS [drain]
#
# Forever: a reading into the Outbox in DIRECTORY (stream "crash"), with a stamp of its own
# (client.stamp_ms(), and past FLOOR_MS: the last stamp an earlier run may have used) and a
# value no other reading has (RUN * 100000 + n); when the queue is long enough (a random
# threshold) and the backoff allows, a flush; then 0 to 15 ms of sleep. Most runs keep a
# backlog (flush one request of 1 to 16 values once 20 to 51 are queued), so a queue file
# lives through many runs until it is compacted; one run in 32 flushes everything once 3 to
# 34 are queued, so the queue empties and its file is removed. drain: flush until nothing
# is pending.
#
# Every step is told on stdout in one write() of a whole line: MicroPython's sys.stdout is
# not buffered (each write is a write(2) at once, also to a pipe), and print() writes the text
# and its "\n" apart, so a kill between them would leave a line cut. From the last line
# before a kill the test knows where it landed:
#   BOOT pending dropped          the Outbox is open
#   ADDING stamp value            add() called...
#   ADDED stamp value             ...and returned: this reading must reach the server once
#   FLUSHING pending              flush() called
#   POST / POSTED                 a request sent / answered with a 2xx
#   COMMIT / COMMITTED            the outbox moving its head past what was delivered
#   COMPACT / COMPACTED           q copied to its next generation (in add() or flush())
#   FLUSHED sent pending          flush() returned; FAILED delay_ms error: it raised
#   PENDING n, DROPPED n, REFUSED n   what drain leaves
#
# Kills should also land in the narrow windows, so flash and network are made as slow as
# a board's: a sync (flush + fsync) and a rename take 0 to 1 ms more (0 to 15 ms within a
# compaction, which copies a whole file), and a 2xx answer is followed by 0 to 7 ms before
# the outbox hears of it. Only time is added: the outbox's own code runs unchanged.
import sys
import time
from random import getrandbits, seed

from m2x_micro import M2XClient, M2XError, format_iso8601
from m2x_micro.backoff import Backoff
import m2x_micro.outbox as outbox

STREAM = "crash"  # tests/test_crash.py creates it
# 24 KiB: q is compacted once 12 KiB of it is delivered (every ~330 readings of 37 bytes),
# and holds 660 undelivered ones, twice the most a backlog and the longest outage here
# queue: none may be dropped for want of room (the test checks dropped == 0).
MAX_BYTES = 24576

try:
    sleep_ms = time.sleep_ms
except AttributeError:  # CPython
    def sleep_ms(ms):
        time.sleep(ms / 1000)


def say(line):
    sys.stdout.write(line + "\n")  # one write(2): a kill takes the whole line or none of it


def told(function, before, after, pause=0):
    # function, saying when it starts and when it returns, then pausing 0 to 2**pause - 1 ms.
    def wrapper(*args, **kwargs):
        say(before)
        result = function(*args, **kwargs)
        say(after)
        if pause:
            sleep_ms(getrandbits(pause))
        return result
    return wrapper


def slowed(box):
    compacting = []

    def flash(function):  # a sync or a rename: 0 to 1 ms more, 0 to 15 ms in a compaction
        def wrapper(*args):
            result = function(*args)
            sleep_ms(getrandbits(4 if compacting else 1))
            return result
        return wrapper

    def compact():
        compacting.append(1)
        try:
            told(real_compact, "COMPACT", "COMPACTED")()
        finally:
            compacting.pop()

    real_compact = box._compact
    box.client.request = told(box.client.request, "POST", "POSTED", 3)
    box._commit = told(box._commit, "COMMIT", "COMMITTED")
    box._compact = compact
    outbox._sync = flash(outbox._sync)
    outbox._rename = flash(outbox._rename)


def loop(client, box, run, floor):
    backoff = Backoff(first_s=0.05, ceiling_s=0.4)
    drainer = not getrandbits(5)
    value = run * 100000
    threshold = 0
    while True:
        stamp = max(client.stamp_ms(), floor + 1)
        floor = stamp
        value += 1
        say("ADDING %d %d" % (stamp, value))
        box.add(STREAM, value, format_iso8601(stamp))
        say("ADDED %d %d" % (stamp, value))
        if box.pending() >= threshold and backoff.ready():
            threshold = 3 + getrandbits(5) if drainer else 20 + getrandbits(5)
            say("FLUSHING %d" % box.pending())
            try:
                sent = box.flush(max_values=1 + getrandbits(4), max_requests=None if drainer else 1)
            except M2XError as e:
                say("FAILED %d %s" % (backoff.failed(e), e))
            else:
                backoff.succeeded()
                say("FLUSHED %d %d" % (sent, box.pending()))
        sleep_ms(getrandbits(4))


def drain(box):
    backoff = Backoff(first_s=0.05, ceiling_s=0.5)
    failures = 0
    while box.pending() and failures < 60:
        say("FLUSHING %d" % box.pending())
        try:
            sent = box.flush(max_values=100)
        except M2XError as e:
            failures += 1
            say("FAILED %d %s" % (backoff.failed(e), e))
            backoff.sleep()
        else:
            backoff.succeeded()
            say("FLUSHED %d %d" % (sent, box.pending()))
    say("PENDING %d" % box.pending())
    say("DROPPED %d" % box.dropped)
    say("REFUSED %d" % len(box.refused()))


def main(argv):
    url, key, device_id, directory, run, rng_seed, floor = argv[1:8]
    seed(int(rng_seed))
    client = M2XClient(key, url, timeout=2)
    box = outbox.Outbox(client, device_id, directory, max_bytes=MAX_BYTES)
    say("BOOT %d %d" % (box.pending(), box.dropped))
    if argv[8:] == ["drain"]:
        drain(box)
    else:
        slowed(box)
        loop(client, box, int(run), int(floor))


main(sys.argv)
