# The end-to-end suite on the MicroPython unix port, against a real m2x_server over real
# sockets: from source with the default heap, and compiled (as deployed) in a 64 KiB heap.
import re

import pytest

from e2e_support import E2E, SUITE_MODULES, dead_ends, suite_environment, suite_tests
from micropython_tools import ROOT, compile_mpy, run_micropython
from server_process import running_server

PORTABLE = ROOT / "tests" / "portable"


@pytest.mark.parametrize("form, heapsize", [("source", None), ("mpy", "64K")])
def test_e2e_suite_on_micropython(form, heapsize, tmp_path, monkeypatch):
    if form == "mpy":
        compile_mpy(ROOT / "m2x_micro" / "__init__.py", tmp_path)
        for module in SUITE_MODULES + ["e2e_common"]:
            compile_mpy(E2E / (module + ".py"), tmp_path)
        path = [PORTABLE, tmp_path]
    else:
        path = [PORTABLE, E2E, ROOT]
    with running_server(tmp_path / "m2x.sqlite3") as server, dead_ends() as (closed_url, silent_url):
        for var, value in suite_environment(server, closed_url, silent_url).items():
            monkeypatch.setenv(var, value)
        result = run_micropython(["mp_runner.py"] + SUITE_MODULES, path, cwd=PORTABLE, heapsize=heapsize, timeout=300)
    print(result.stdout[-5000:], result.stderr[-2000:])
    summary = re.search(r"^(\d+) passed, (\d+) failed$", result.stdout, re.M)
    assert summary, "the runner printed no summary"
    assert (int(summary.group(1)), int(summary.group(2)), result.returncode) == (len(suite_tests()), 0, 0)
