# The end-to-end suite on the MicroPython unix port, against a real m2x_server over real
# sockets: from source with the default heap, and compiled (as deployed) in a 72 KiB heap
# (the suite's modules and the client need 67 KiB since requests became bounded in time and
# memory; the margin is for fragmentation, which decides runs near the limit).
import pytest

from e2e_support import E2E, SUITE_MODULES, dead_ends, suite_environment, suite_tests
from micropython_tools import ROOT, compile_mpy, run_portable_tests
from server_process import running_server


@pytest.mark.parametrize("form, heapsize", [("source", None), ("mpy", "72K")])
def test_e2e_suite_on_micropython(form, heapsize, tmp_path, monkeypatch):
    if form == "mpy":
        compile_mpy(ROOT / "m2x_micro" / "__init__.py", tmp_path)
        for module in SUITE_MODULES + ["e2e_common"]:
            compile_mpy(E2E / (module + ".py"), tmp_path)
        path = [tmp_path]
    else:
        path = [E2E, ROOT]
    with running_server(tmp_path / "m2x.sqlite3") as server, dead_ends() as (closed_url, silent_url):
        for var, value in suite_environment(server, closed_url, silent_url).items():
            monkeypatch.setenv(var, value)
        summary = run_portable_tests(SUITE_MODULES, path, heapsize=heapsize, timeout=300)
    assert summary == (len(suite_tests()), 0, 0)
