# The deterministic budgets of `make bench`: the .mpy size and the heap the demo's device
# scenario runs in, on the MicroPython unix port (64-bit: objects and GC blocks are about
# twice a 32-bit board's). The rates are measured and reported by `make bench`, not asserted.
import sys
import types

import pytest

from micropython_tools import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import run as bench  # noqa: E402

MPY_BUDGET = 13 * 1024  # bytes, the target of issue 8 (bounded requests raised it from 12)
# The target is 32 KiB, not met (see README). `make bench` measures 57 KiB: near
# that size a run completes or not as the heap happens to fragment (56 failed 5 runs in 5,
# 55 completed 5 in 5), hence the margin.
SCENARIO_HEAP_BUDGET_KB = 62


@pytest.fixture(scope="module")
def client_mpy():
    """build/m2x_micro.mpy, build/app.mpy and build/bench/*.mpy, as `make bench` compiles them."""
    return bench.compile_client()


def test_mpy_size_within_budget(client_mpy):
    assert client_mpy.stat().st_size <= MPY_BUDGET


def test_demo_scenario_runs_in_its_heap_budget(client_mpy, m2x_server):
    server = types.SimpleNamespace(url=m2x_server.url, key=m2x_server.master_key)
    assert bench.completes(server, "__import__('mp_m2x').scenario()", [bench.BUILD / "bench", bench.BUILD], 0,
                           SCENARIO_HEAP_BUDGET_KB, tries=5)
