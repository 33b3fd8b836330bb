"""make bench: size, memory and speed of m2x_micro beside a hand-written baseline (a loop of
requests calls; for the outbox add-on, readings held in RAM), and the heap of the device
loop, measured in one run on the MicroPython unix port against a local m2x_server (and a
second one serving https, for the transport add-on).
The heap kept after import is also measured on a 32-bit MicroPython (the webassembly
port under node, whose directory is the first argument), since boards are 32-bit.
Prints a table and writes build/bench.json."""
import datetime
import json
import os
import re
import subprocess
import sys
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
BUILD = ROOT / "build"
WRITES = 200  # single-value writes per rate measurement
TLS_WRITES = 100  # the same over https, where the baseline's run takes 10 s
KEEP = {"BENCH_TRANSPORT": "1"}  # mp_m2x's client through the transport add-on, not requests
API, QUEUE = ("mp_m2x", "mp_baseline"), ("mp_outbox", "mp_held")  # bench modules: ours, the baseline's
LOOP, LOOP_READINGS = "__import__('mp_loop').run()", 10000  # the device loop, its readings
GC_BLOCK = 32  # bytes of a GC block on the 64-bit unix port (4 words)


def compile_client():
    """build/m2x_micro/*.mpy (the core and its add-ons) and build/app.mpy, made by
    `make mpy` as for a board, and the bench's own MicroPython modules in build/bench/
    (compiled, so that no measurement pays for compiling source in its heap). Returns the
    core alone as build/core/m2x_micro.mpy, the one file a board without add-ons gets."""
    subprocess.run(["make", "-s", "mpy"], cwd=str(ROOT), check=True)
    (BUILD / "bench").mkdir(exist_ok=True)
    for source in (ROOT / "bench").glob("mp_*.py"):
        subprocess.run([str(BIN / "mpy-cross"), "-o", str(BUILD / "bench" / (source.stem + ".mpy")), str(source)], check=True)
    (BUILD / "core").mkdir(exist_ok=True)
    core = BUILD / "core" / "m2x_micro.mpy"
    shutil.copy(BUILD / "m2x_micro" / "__init__.mpy", core)
    return core


class Server:
    """m2x_server on a free loopback port with a temporary database; with tls=True, over
    https with a certificate from a CA made by m2x_server.certs (its DER file: self.ca)."""

    def __init__(self, tls=False):
        self.tls = tls

    def __enter__(self):
        self.dir = tempfile.TemporaryDirectory()
        cmd = [sys.executable, "-m", "m2x_server", "--host", "127.0.0.1", "--port", "0", "--db", self.dir.name + "/db"]
        if self.tls:
            certs = self.dir.name + "/certs"
            subprocess.run([sys.executable, "-m", "m2x_server.certs", "--host", "localhost", "--host", "127.0.0.1",
                            "--out", certs], cwd=str(ROOT), check=True, capture_output=True)
            self.ca = certs + "/ca.der"
            cmd += ["--tls-cert", certs + "/server.pem", "--tls-key", certs + "/server.key"]
        self.proc = subprocess.Popen(cmd, cwd=str(ROOT), stdout=subprocess.PIPE, text=True)
        self.key = None
        for line in self.proc.stdout:  # "master key: KEY" (a new database), then the address
            if line.startswith("master key: "):
                self.key = line.split()[-1]
            elif line.startswith("m2x_server listening on "):
                self.url = line.split()[-1]
                return self
        raise RuntimeError("m2x_server did not start")

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.dir.cleanup()


def run_micropython(server, code, path, count=0, heap_kb=None, env=None):
    """Run `code` (Python source that evaluates to the result) on MicroPython with the
    modules of `path` (and `env` added to the environment); its result as a str, or None
    when it ran out of heap (a MemoryError, even one it carried on from, as the device loop
    does), and what it printed."""
    env = dict(os.environ, MICROPYPATH=":".join([str(p) for p in path] + [".frozen"]),
               BENCH_URL=server.url, BENCH_KEY=server.key, BENCH_COUNT=str(count), **(env or {}))
    cmd = [str(BIN / "micropython")] + (["-X", "heapsize=%dK" % heap_kb] if heap_kb else [])
    cmd += ["-c", "print('RESULT', %s)" % code]
    with tempfile.TemporaryDirectory() as scratch:
        env["BENCH_OUTBOX"] = scratch + "/outbox"  # a new outbox for each run
        # cwd: `-c` puts the current directory first on the path, and the repository's would
        # shadow the compiled client.
        done = subprocess.run(cmd, env=env, cwd=str(BUILD / "bench"), capture_output=True, text=True, timeout=300)
    ran_out = "MemoryError" in done.stderr + done.stdout
    for line in done.stdout.splitlines():
        if line.startswith("RESULT ") and not ran_out:
            return line.split(" ", 1)[1], done.stdout
    if heap_kb is None or not ran_out:
        raise RuntimeError("%s failed:\n%s%s" % (code, done.stdout[-2000:], done.stderr[-2000:]))
    return None, done.stdout


def micropython(server, code, path, count=0, heap_kb=None, env=None):
    """run_micropython()'s result alone."""
    return run_micropython(server, code, path, count, heap_kb, env)[0]


def completes(server, what, path, count, heap_kb, tries=3):
    """Whether every one of `tries` runs completes in heap_kb KiB."""
    return all(micropython(server, what, path, count, heap_kb) is not None for _ in range(tries))


def smallest_heap_kb(server, what, path, count=0, low=2, high=1024, margin=16):
    """The smallest -X heapsize in KiB from which the measurement completes, in every try
    and with every larger heap. Near the limit the outcome is not monotonic: a large
    allocation fits or not depending on how the heap happens to fragment (at one point 53
    and 54 KiB completed, 55 and 56 failed). A binary search gives a first guess; from there
    plus `margin` the size is stepped down while it still completes."""
    if not completes(server, what, path, count, high, tries=1):
        raise RuntimeError("%s fails even with %d KiB" % (what, high))
    while high - low > 1:
        middle = (low + high) // 2
        if completes(server, what, path, count, middle, tries=1):
            high = middle
        else:
            low = middle
    size = high + margin
    if not completes(server, what, path, count, size):
        raise RuntimeError("%s fails at %d KiB, above its first guess" % (what, size))
    while size > high and completes(server, what, path, count, size - 1):
        size -= 1
    return size


def on_32_bit(port_dir, expression, *files):
    done = subprocess.run(["node", str(ROOT / "bench" / "wasm32_run.mjs"), port_dir, expression] + [str(f) for f in files],
                          capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.split()[-1]


def build_romfs(mpy):
    """A ROMFS image holding the compiled client, as `mpremote romfs deploy` writes one to a
    board's ROMFS partition."""
    folder, image = BUILD / "romfs", BUILD / "m2x_micro.romfs"
    folder.mkdir(exist_ok=True)
    shutil.copy(mpy, folder / mpy.name)
    subprocess.run([str(BIN / "mpremote"), "romfs", "--no-mpy", "-o", str(image), "build", str(folder)],
                   check=True, capture_output=True)
    return image


def measure(server, secure, mpy, wasm32_port):
    bench, package = BUILD / "bench", BUILD / "m2x_micro"
    ours = [bench, BUILD]  # the compiled package and app, as deployed
    core = [bench, mpy.parent]  # the core alone, as m2x_micro.mpy
    source = [ROOT]
    rows = []

    def row(name, ours_figure, baseline_figure, unit):
        rows.append({"measure": name, "m2x_micro": ours_figure, "baseline": baseline_figure, "unit": unit})

    for name, path in (("core", mpy), ("outbox add-on", package / "outbox.mpy"),
                       ("backoff add-on", package / "backoff.mpy"),
                       ("transport add-on", package / "transport.mpy")):
        row(".mpy size, " + name, path.stat().st_size, None, "bytes")
    kept, in_place = "__import__('mp_import').kept(%s)", "__import__('mp_import').kept_in_place(%r)"
    everything = kept % "'m2x_micro', 'm2x_micro.outbox', 'm2x_micro.backoff'"
    imports = "__import__('m2x_micro') and 'ok'"
    importer, romfs = ROOT / "bench" / "mp_import.py", build_romfs(mpy)
    row("heap kept after import, .py", int(micropython(server, kept % "", [bench] + source)), None, "bytes")
    row("heap kept after import, .mpy", int(micropython(server, kept % "", core)), None, "bytes")
    row("heap kept after import, .mpy (32-bit)", int(on_32_bit(wasm32_port, kept % "", mpy, importer)), None, "bytes")
    row("heap kept after import, .mpy, core + outbox + backoff", int(micropython(server, everything, ours)),
        None, "bytes")
    row("heap kept after import, .mpy, core + outbox + backoff (32-bit)",
        int(on_32_bit(wasm32_port, everything, package, importer)), None, "bytes")
    row("heap kept after import, .mpy in place (ROMFS)", int(micropython(server, in_place % str(romfs), [bench])),
        None, "bytes")
    row("heap kept after import, .mpy in place (ROMFS, 32-bit)",
        int(on_32_bit(wasm32_port, in_place % ("/bench/" + romfs.name), romfs, importer)), None, "bytes")
    row("heap held by a parsed 200-value answer: with its bytes (as read) / parsed from the stream",
        micropython(server, "__import__('mp_json').held()", [bench]), None, "bytes")
    row("smallest heap to import, .py / .mpy",
        "%d / %d" % (smallest_heap_kb(server, imports, source), smallest_heap_kb(server, imports, core)), None, "KiB")

    def sides(modules):
        # Where code runs, ours and the baseline's: the API calls of mp_m2x.py beside those of
        # mp_baseline.py, or the outbox of mp_outbox.py beside the RAM of mp_held.py.
        return zip(["__import__('%s')." % m for m in modules], (ours, [bench]))

    def smallest(code, count=0, modules=API):
        return [smallest_heap_kb(server, module + code, path, count) for module, path in sides(modules)]

    row("smallest heap for the demo scenario", *smallest("scenario()"), "KiB (-X heapsize)")

    def best_rates(code, count, modules=API, variants=({},), on=server):
        # Rates vary with the machine's load: the best of three runs, ours (once for each
        # of `variants`, what it adds to the environment) and the baseline's taking turns,
        # so that all see the same conditions. [ours for each variant..., the baseline's]
        (mine, path), (theirs, base) = sides(modules)
        runs = [[int(micropython(on, mine + code, path, count, env=env)) for env in variants]
                + [int(micropython(on, theirs + code, base, count))] for _ in range(3)]
        return [max(column) for column in zip(*runs)]

    def growth(code, modules=API):
        # The smallest heap that completes the posting, and its growth over the smallest
        # that completes the same run up to just before it; ours and the baseline's.
        posted = smallest(code % "post", 1000, modules)
        return posted, [p - h for p, h in zip(posted, smallest(code % "hold", 1000, modules))]

    # The transport add-on: a kept-alive connection (https verified against the CA) beside
    # the baseline's requests, a new connection (and over https a new unverified TLS
    # handshake) each request.
    default, reused, baseline = best_rates("writes()", WRITES, variants=({}, KEEP))
    row("single-value writes", default, baseline, "writes/s")
    row("single-value writes, transport add-on", reused, baseline, "writes/s")
    verified = dict(KEEP, BENCH_CA=secure.ca)
    row("single-value writes over https, transport add-on (verified)",
        *best_rates("writes()", TLS_WRITES, variants=(verified,), on=secure), "writes/s")
    row("heap kept by the transport add-on's https connection after one request / after close()",
        micropython(secure, "__import__('mp_connection').heap()", ours, env=verified), None, "bytes")
    for size in (100, 1000):
        row("post_updates, %d values a request" % size, *best_rates("updates('rate')", size), "values/s")
    row("peak heap growth posting 1,000 values", *growth("updates(%r)")[1], "KiB")
    # The outbox's flush beside readings held in RAM as (stamp, value) pairs until posted.
    default, reused, baseline = best_rates("queued('rate')", 1000, QUEUE, ({}, KEEP))
    row("flushing 1,000 queued readings in one request", default, baseline, "values/s")
    row("flushing 1,000 queued readings in one request, transport add-on", reused, baseline, "values/s")
    heap, grew = growth("queued(%r)", QUEUE)
    row("peak heap growth flushing 1,000 queued readings", *grew, "KiB")
    row("smallest heap flushing 1,000 queued readings", *heap, "KiB (-X heapsize)")
    # The device loop of boards/common/app.py: its smallest heap, and at that heap (or at
    # the target, 64K, if less) whether the heap grows between the first thousand
    # readings and the last.
    loop = "device loop, {:,} readings".format(LOOP_READINGS)
    heap = smallest_heap_kb(server, LOOP, ours, LOOP_READINGS)
    row(loop + ": smallest heap", heap, None, "KiB (-X heapsize)")
    heap = max(heap, 64)
    figures = device_loop(server, ours, LOOP_READINGS, heap)
    for i, name in enumerate(("heap in use", "largest free block")):
        row("%s at %dK: %s at 1,000 / at %s" % (loop, heap, name, "{:,}".format(LOOP_READINGS)),
            "%d / %d" % (figures[0][i], figures[-1][i]) if figures else "out of heap", None, "bytes")
    return rows


def device_loop(server, path, readings, heap_kb=64):
    """app.device_loop for `readings` readings in heap_kb KiB: [(heap in use, largest free
    block), ...] in bytes after a collection at every thousand readings; None when it ran
    out of heap."""
    result, printed = run_micropython(server, LOOP, path, readings, heap_kb)
    if result is None:
        return None
    free = [int(n) * GC_BLOCK for n in re.findall(r"max free sz: (\d+)", printed)]
    return list(zip([int(n) for n in result.split()], free))


def print_table(rows):
    print("| measure | m2x_micro | baseline | unit |")
    print("|---|---:|---:|---|")
    for r in rows:
        print("| %s | %s | %s | %s |" % (r["measure"], r["m2x_micro"], "-" if r["baseline"] is None else r["baseline"], r["unit"]))


def main():
    mpy = compile_client()
    with Server() as server, Server(tls=True) as secure:
        rows = measure(server, secure, mpy, sys.argv[1])
    report = {"date": datetime.date.today().isoformat(), "interpreter": "MicroPython unix port (64-bit); 32-bit rows: webassembly port",
              "command": "make bench", "rows": rows}
    (BUILD / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    print("make bench, %s, %s" % (report["date"], report["interpreter"]))
    print_table(rows)


if __name__ == "__main__":
    main()
