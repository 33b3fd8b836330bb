# The deterministic budgets of `make bench`: the .mpy sizes and the heap the demo's device
# scenario and the device loop run in, on the MicroPython unix port (64-bit: objects and GC
# blocks are about twice a 32-bit board's). The rates are measured and reported by `make
# bench`, not asserted.
import sys
import types

import pytest

from micropython_tools import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import run as bench  # noqa: E402

MPY_BUDGET = 13 * 1024  # bytes, the target of issue 8 (bounded requests raised it from 12)
# The target of issue 4 was 32 KiB, not met (see README). `make bench` measures 65 KiB since
# requests became bounded (57 before). Near that size a run completes or not as the heap
# happens to fragment, and not even monotonically (60 and 62 KiB completed 30 runs in 30, 64
# failed 1 in 10), hence the margin: 70 completed 30 in 30.
SCENARIO_HEAP_BUDGET_KB = 70
OUTBOX_MPY_BUDGET = 6 * 1024  # bytes, the targets of issue 8 for the add-ons
BACKOFF_MPY_BUDGET = 1536
TRANSPORT_MPY_BUDGET = 5 * 1024  # the target of issue 9
# The device loop (boards/common/app.py) for 10,000 readings, delivering every 100, whose
# heap must not grow between the first thousand readings and the last: the target,
# 64 KiB (10 runs in 10 complete there, 62 KiB fails: the imports a board makes keep 43 KB
# on this 64-bit port).
DEVICE_LOOP_HEAP_BUDGET_KB = 64
DEVICE_LOOP_GROWTH = 1024  # bytes


@pytest.fixture(scope="module")
def client_mpy():
    """build/core/m2x_micro.mpy (the core alone), build/m2x_micro/*.mpy, build/app.mpy and
    build/bench/*.mpy, as `make bench` compiles them."""
    return bench.compile_client()


def test_mpy_size_within_budget(client_mpy):
    assert client_mpy.stat().st_size <= MPY_BUDGET


@pytest.mark.parametrize("name, budget", [("outbox", OUTBOX_MPY_BUDGET), ("backoff", BACKOFF_MPY_BUDGET),
                                          ("transport", TRANSPORT_MPY_BUDGET)])
def test_add_on_mpy_size_within_budget(client_mpy, name, budget):
    assert (bench.BUILD / "m2x_micro" / (name + ".mpy")).stat().st_size <= budget


@pytest.fixture
def server(m2x_server):
    """The test's m2x_server as bench/run.py wants it."""
    return types.SimpleNamespace(url=m2x_server.url, key=m2x_server.master_key)


def test_demo_scenario_runs_in_its_heap_budget(client_mpy, server):
    assert bench.completes(server, "__import__('mp_m2x').scenario()", [bench.BUILD / "bench", bench.BUILD], 0,
                           SCENARIO_HEAP_BUDGET_KB, tries=5)


def test_device_loop_runs_in_its_heap_budget_without_growing(client_mpy, server):
    figures = bench.device_loop(server, [bench.BUILD / "bench", bench.BUILD], bench.LOOP_READINGS,
                                DEVICE_LOOP_HEAP_BUDGET_KB)
    assert figures and len(figures) == bench.LOOP_READINGS // 1000
    assert figures[-1][0] <= figures[0][0] + DEVICE_LOOP_GROWTH
