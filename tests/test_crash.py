# Issue 8's crash test: "a kill or power loss at any instant loses nothing that add()
# returned for". The device loop of tests/crash/crash_device.py runs on the MicroPython unix
# port (the compiled package, as a board has it) against a real `python -m m2x_server`, and
# is killed with SIGKILL after a random 10 to 400 ms (or, 3 times in 10, a few ms after it
# starts a narrow step: see AIMED), then started again on the same outbox directory,
# CRASH_KILLS times (default 200, about a minute; `make crash-test` runs 2,000). Every 30 to 50
# kills the server is restarted, half the time with SIGTERM and half with SIGKILL, and while
# it is down the device may be started and killed too (0 to 2 times). Then a last run drains
# the outbox (server up) and the server's values of the stream are read back, a page of
# 1,000 at a time, and compared with what the device said on stdout, one write(2) a line:
#   - every reading whose add() returned (ADDED) is on the server once, with its value:
#     0 lost, 0 altered;
#   - every value on the server is such a reading, or the one reading of a killed run whose
#     add() was cut short (ADDING without ADDED), which may or may not have got there; no
#     value is there twice (values are unique, stamps too): 0 duplicated, 0 unknown;
#   - the outbox ends with nothing pending, nothing dropped for want of room, nothing refused.
# The kills land (by the last line a run wrote) at boot, during add(), while flush() reads
# q, while a request is on the wire, after its 2xx before the commit, during the commit
# (head.tmp written, renamed over head, q removed when all is delivered), during a
# compaction of q, and between steps (sleeps); the summary counts each. The device slows
# flash and network by a few ms so that the narrow windows are hit (see crash_device.py).
#
# Torn records: a kill cannot tear one. strace shows that MicroPython writes a record with
# one write(2) on an O_APPEND fd, then fsync (Outbox._sync's f.flush()); SIGKILL does not
# interrupt a write to a regular file part way, and the page cache outlives the process. So
# what a power cut does to the record being appended is done here by hand: after half the
# kills that cut an add() whose record had reached q, q is truncated at a random byte inside
# that record (its last line), as a cut mid-write leaves it. The outbox must then skip the
# torn line and start the next record after "!\n". Truncation at every byte of a record is
# covered by the unit tests in tests/portable/test_outbox.py. What SIGKILL does not do
# either is lose the head, which is not synced: the page cache survives a killed process.
#
# CRASH_SEED=<n> replays the draws of a run (the seed is printed, and named in failures):
# the delays, aims, tears, restarts and the device's own draws; where a kill lands also
# depends on timing, so a replay comes close but not exactly.
import collections
import os
import random
import select
import signal
import subprocess
import time

import pytest

from m2x_micro import format_iso8601, parse_iso8601
from micropython_tools import ROOT, tool
from server_process import running_server

DEVICE = ROOT / "tests" / "crash" / "crash_device.py"
STREAM = "crash"  # as in crash_device.py
KILLS = int(os.environ.get("CRASH_KILLS", "200"))
KILL_AFTER_S = (0.010, 0.400)  # the device says BOOT ~22 ms after it is started
# A share of the kills is aimed: armed after a random instant of KILL_AFTER_S, it comes 0 to
# 4 ms after the next line that starts a narrow step (a compaction, rarer, is waited for
# from the start, up to 1 s); one that does not come in time is a kill at a random instant.
AIMED = 0.3
TARGETS = (b"\nADDING ", b"\nPOST\n", b"\nPOSTED\n", b"\nCOMMIT\n", b"\nCOMPACT\n")
AIM_S = (0.0, 0.004)
RESTART_EVERY = (30, 50)  # kills between server restarts
PAGE = 1000  # values read back a request

# Where a kill landed, by the last line the run wrote (see crash_device.py).
PHASES = ("boot", "add", "flush", "request", "after 2xx", "commit", "compaction", "between")


@pytest.fixture(scope="module", autouse=True)
def compiled_package():
    """build/m2x_micro/*.mpy, as a board has them."""
    subprocess.run(["make", "-s", "mpy"], cwd=str(ROOT), check=True)


class Ledger:
    """What the device runs said: the readings added, those cut short, where kills landed."""

    def __init__(self, seed):
        self.seed = seed
        self.added = {}  # stamp: value, add() returned
        self.cut = {}  # stamp: value, add() was killed before it returned
        self.values = set()  # every value an add() was called with
        self.floor = 0  # the last stamp used: the next run's stamps come after it
        self.runs = self.kills = self.kills_while_down = 0
        self.torn = set()  # stamps of the records torn by hand: never to be sent
        self.phases = collections.Counter()
        self.aimed = collections.Counter()  # kills aimed at a step, by the line that started it
        self.counts = collections.Counter()  # lines of each kind
        self.boot_dropped = 0
        self.backlog = 0  # the most readings queued at a BOOT or FLUSHING

    def check(self, condition, what, lines):
        assert condition, "%s (seed %d, run %d), the run's last lines:\n%s" % (
            what, self.seed, self.runs, "\n".join(lines[-15:]))

    def record(self, lines, killed):
        """Takes a run's lines in; returns (stamp, value) of its add() cut short, or None."""
        self.runs += 1
        adding = None  # (stamp, value) of an ADDING without its ADDED yet
        phase = "boot"
        inner = None  # request, after 2xx, commit: within a flush
        compacting = False
        for line in lines:
            word, _, rest = line.partition(" ")
            self.counts[word] += 1
            if word == "BOOT":
                pending, dropped = [int(n) for n in rest.split()]
                self.boot_dropped = max(self.boot_dropped, dropped)
                self.backlog = max(self.backlog, pending)
                phase = "between"
            elif word == "ADDING":
                self.check(adding is None and phase == "between", "ADDING inside another step", lines)
                stamp, value = [int(n) for n in rest.split()]
                self.check(stamp > self.floor, "stamp %d not after %d" % (stamp, self.floor), lines)
                self.check(value not in self.values, "value %d used twice" % value, lines)
                self.floor = stamp
                self.values.add(value)
                adding = (stamp, value)
                phase = "add"
            elif word == "ADDED":
                self.check(adding == tuple(int(n) for n in rest.split()), "ADDED without its ADDING", lines)
                self.added[adding[0]] = adding[1]
                adding = None
                phase = "between"
            elif word == "FLUSHING":
                self.backlog = max(self.backlog, int(rest))
                phase = "flush"
            elif word in ("FLUSHED", "FAILED"):
                self.check(phase == "flush" and not compacting, "%s outside a flush" % word, lines)
                phase, inner = "between", None
            elif word == "POST":
                inner = "request"
            elif word == "POSTED":
                inner = "after 2xx"
            elif word == "COMMIT":
                inner = "commit"
            elif word == "COMMITTED":
                inner = None
            elif word in ("COMPACT", "COMPACTED"):
                compacting = word == "COMPACT"
        if killed:
            self.kills += 1
            self.phases["compaction" if compacting else inner or phase] += 1
        else:
            self.check(adding is None, "an add() cut short without a kill", lines)
        if adding:
            self.cut[adding[0]] = adding[1]
        return adding


class Device:
    """Starts crash_device.py on the unix port, kills it, keeps the ledger."""

    def __init__(self, server, device, directory, rng, ledger):
        self.server, self.device, self.directory, self.rng, self.ledger = server, device, directory, rng, ledger
        self.env = dict(os.environ, MICROPYPATH="%s:.frozen" % (ROOT / "build"))

    def start(self, device_seed, *mode):
        args = [tool("micropython"), str(DEVICE), self.server.url, self.device["key"], self.device["id"],
                str(self.directory), str(self.ledger.runs + 1), str(device_seed), str(self.ledger.floor)] + list(mode)
        return subprocess.Popen(args, cwd=str(self.directory.parent), env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)

    def lines(self, out):
        text = out.decode()
        assert text.endswith("\n") or not text, "a line cut by a kill: one write(2) a line is not atomic?"
        return text.splitlines()

    def run_and_kill(self, server_down=False):
        # Every draw of a run is made first, the same ones whatever happens, so that a seed
        # replays them all.
        rng = self.rng
        device_seed, aimed, target = rng.getrandbits(30), rng.random() < AIMED, rng.choice(TARGETS)
        delay, aim, tear, where = rng.uniform(*KILL_AFTER_S), rng.uniform(*AIM_S), rng.random() < 0.5, rng.random()
        process = self.start(device_seed)
        try:
            began = time.monotonic()
            if not aimed:
                out = self.read_until(process, None, 0, began + delay, 0)
            elif target == TARGETS[-1]:
                out = self.read_until(process, target, began, began + 1.0, aim)
            else:
                out = self.read_until(process, target, began + delay, began + delay + 0.5, aim)
        finally:
            process.kill()  # nothing when it has ended by itself: then its status says how
        rest, err = process.communicate(timeout=30)
        lines = self.lines(out + rest)
        self.ledger.check(process.returncode == -signal.SIGKILL,
                          "the device ended by itself (%s): %s" % (process.returncode, err.decode()[-3000:]), lines)
        cut = self.ledger.record(lines, killed=True)
        self.ledger.kills_while_down += server_down
        if cut and tear:
            self.tear(cut, where)

    def read_until(self, process, target, arm, deadline, aim):
        # What the device writes until the deadline, or until aim s after a target line
        # that comes once armed: then it is time to kill.
        fd = process.stdout.fileno()
        out = b""
        seen = 0  # where a target line may start: only lines after arming count
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return out
            chunk = os.read(fd, 65536)
            if not chunk:  # ended by itself
                return out
            out += chunk
            if not target:
                continue
            if time.monotonic() < arm:
                seen = len(out)
            elif out.find(target, max(seen - 1, 0)) >= 0:
                self.ledger.aimed[target.strip().decode()] += 1
                time.sleep(aim)
                return out

    def tear(self, cut, where):
        # What a power cut mid-write leaves of the record being appended: a part of it (where
        # in [0, 1) says how much).
        q = self.directory / "q"
        data = q.read_bytes() if q.exists() else b""
        start = data.rfind(b"\n", 0, len(data) - 1) + 1
        if data.endswith(b"\n") and data[start:].startswith(b"%s\t%d\t%d\t" % (STREAM.encode(), cut[0], cut[1])):
            with open(q, "r+b") as f:
                f.truncate(start + 1 + int(where * (len(data) - start - 1)))
            self.ledger.torn.add(cut[0])

    def drain(self):
        process = self.start(self.rng.getrandbits(30), "drain")
        try:
            out, err = process.communicate(timeout=120)
        finally:
            process.kill()
        lines = self.lines(out)
        self.ledger.check(process.returncode == 0, "drain failed: %s" % err.decode()[-3000:], lines)
        self.ledger.record(lines, killed=False)
        return dict(line.split() for line in lines if line.split()[0] in ("PENDING", "DROPPED", "REFUSED"))


def restart_server(server, board, rng):
    """Stop the server (SIGTERM or SIGKILL), kill the device 0 to 2 times while it is down,
    start it on the same port and database."""
    if rng.random() < 0.5:
        server.stop()
    else:
        server.process.kill()
        server.process.wait()
        server.process = None
    for _ in range(rng.randint(0, 2)):
        board.run_and_kill(server_down=True)
    server.start()


def stored_values(server, device):
    """[(stamp, value)] of the stream, newest first, read a page at a time."""
    path = "/v2/devices/%s/streams/%s/values" % (device["id"], STREAM)
    values = []
    params = {"limit": PAGE}
    while True:
        answer = server.request("GET", path, params=params)
        assert answer.status_code == 200, answer.text
        page = answer.json()["values"]
        values += [(parse_iso8601(v["timestamp"]), v["value"]) for v in page]
        if len(page) < PAGE:
            return values
        params["end"] = format_iso8601(values[-1][0] - 1)  # the stream keeps one value a stamp


def test_a_kill_at_any_instant_loses_nothing_that_add_returned_for(tmp_path):
    seed = int(os.environ.get("CRASH_SEED") or random.randrange(2 ** 32))
    rng = random.Random(seed)
    print("\ncrash test: seed %d (CRASH_SEED=%d replays its draws), %d kills" % (seed, seed, KILLS))
    began = time.monotonic()
    ledger = Ledger(seed)
    restarts = 0
    with running_server(tmp_path / "m2x.sqlite3", subprocess=True) as server:
        device = server.request("POST", "/v2/devices", json={"name": "crash", "visibility": "private"}).json()
        assert server.request("PUT", "/v2/devices/%s/streams/%s" % (device["id"], STREAM), json={}).ok
        board = Device(server, device, tmp_path / "outbox", rng, ledger)
        next_restart = rng.randint(*RESTART_EVERY)
        while ledger.kills < KILLS:
            board.run_and_kill()
            if ledger.kills >= next_restart:
                restart_server(server, board, rng)
                restarts += 1
                next_restart = ledger.kills + rng.randint(*RESTART_EVERY)
        left = board.drain()
        stored = stored_values(server, device)
        count = server.request("GET", "/v2/devices/%s/streams/%s/stats" % (device["id"], STREAM)).json()
    elapsed = time.monotonic() - began

    on_server = dict(stored)
    by_value = collections.Counter(value for _, value in stored)
    lost = [s for s in ledger.added if s not in on_server]
    altered = [s for s in on_server if s in ledger.added and on_server[s] != ledger.added[s]]
    altered += [s for s in on_server if s in ledger.cut and on_server[s] != ledger.cut[s]]
    duplicated = [(s, v) for s, v in stored if by_value[v] > 1]
    unknown = [s for s in on_server if s not in ledger.added and s not in ledger.cut]
    kept = [s for s in ledger.cut if s in on_server]
    print("crash test: %d kills (%d while the server was down), %d server restarts, %d readings added, "
          "%d lost, %d duplicated, %d altered, %d unknown, %d in-flight adds (%d kept, %d torn by hand); "
          "outbox: %s pending, %s dropped, %s refused; %.1f s" % (
              ledger.kills, ledger.kills_while_down, restarts, len(ledger.added), len(lost), len(duplicated),
              len(altered), len(unknown), len(ledger.cut), len(kept), len(ledger.torn), left.get("PENDING"),
              left.get("DROPPED"), left.get("REFUSED"), elapsed))
    print("crash test: kills landed at " + ", ".join("%s %d" % (p, ledger.phases[p]) for p in PHASES)
          + "; %d aimed (%s)" % (sum(ledger.aimed.values()), ", ".join(
              "%s %d" % (t.strip().decode(), ledger.aimed[t.strip().decode()]) for t in TARGETS)))
    print("crash test: %d runs, %d flushes (%d failed), %d requests answered 2xx, %d commits, %d compactions, "
          "at most %d readings queued" % (
              ledger.runs, ledger.counts["FLUSHING"], ledger.counts["FAILED"], ledger.counts["POSTED"],
              ledger.counts["COMMITTED"], ledger.counts["COMPACTED"], ledger.backlog))

    where = " (seed %d)" % seed
    assert not lost, "lost%s: %s" % (where, sorted(lost)[:20])
    assert not altered, "altered%s: %s" % (where, [(s, on_server[s], ledger.added.get(s, ledger.cut.get(s)))
                                                    for s in sorted(altered)[:20]])
    assert not duplicated, "duplicated%s: %s" % (where, duplicated[:20])
    assert not unknown, "on the server but never added%s: %s" % (where, [(s, on_server[s]) for s in unknown[:20]])
    assert not ledger.torn & set(on_server), "a torn record was sent" + where
    assert len(stored) == len(on_server) == count["stats"]["count"], "the read back missed values" + where
    assert left == {"PENDING": "0", "DROPPED": "0", "REFUSED": "0"}, left
    assert ledger.boot_dropped == 0, "readings dropped for want of room" + where
    assert ledger.kills >= KILLS and ledger.added
