# One pytest run covers both interpreters: the portable suite again, on MicroPython,
# with m2x_micro imported from its source and from its mpy-cross build.
import ast
import re

import pytest

from micropython_tools import ROOT, compile_mpy, run_micropython

PORTABLE = ROOT / "tests" / "portable"


def portable_test_count():
    count = 0
    for path in sorted(PORTABLE.glob("test_*.py")):
        tree = ast.parse(path.read_text())
        count += len([n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")])
    return count


def run_suite(client_dir):
    result = run_micropython(["mp_runner.py"], [PORTABLE, client_dir], cwd=PORTABLE)
    print(result.stdout[-3000:], result.stderr[-3000:])
    summary = re.search(r"^(\d+) passed, (\d+) failed$", result.stdout, re.M)
    assert summary, "the runner printed no summary"
    return int(summary.group(1)), int(summary.group(2)), result.returncode


@pytest.mark.parametrize("form", ["py", "mpy"])
def test_portable_suite_passes_on_micropython(form, tmp_path):
    if form == "py":
        client_dir = ROOT
    else:
        compile_mpy(ROOT / "m2x_micro" / "__init__.py", tmp_path)
        client_dir = tmp_path
    passed, failed, code = run_suite(client_dir)
    assert (passed, failed, code) == (portable_test_count(), 0, 0)


def test_client_compiles_with_mpy_cross(tmp_path):
    mpy = compile_mpy(ROOT / "m2x_micro" / "__init__.py", tmp_path)
    assert mpy.read_bytes()[:1] == b"M"  # the .mpy magic
