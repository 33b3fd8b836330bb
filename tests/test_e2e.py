# The end-to-end suite on CPython: m2x_micro through the urequests shim (so it fails where
# a board would) against a fresh m2x_server per test, over real loopback sockets.
import importlib
import sys

import pytest

from e2e_support import dead_ends, suite_environment, suite_test_names
from micropython_tools import ROOT

sys.path.insert(0, str(ROOT / "tests" / "e2e"))


@pytest.mark.parametrize("name", suite_test_names())
def test_e2e_on_cpython(name, m2x_server, monkeypatch):
    from cpython_shim import urequests as shim

    monkeypatch.setitem(sys.modules, "urequests", shim)
    suite = importlib.import_module("e2e_suite")
    with dead_ends() as (closed_url, silent_url):
        for var, value in suite_environment(m2x_server, closed_url, silent_url).items():
            monkeypatch.setenv(var, value)
        monkeypatch.setattr(suite, "URL", m2x_server.url)
        monkeypatch.setattr(suite, "KEY", m2x_server.master_key)
        getattr(suite, name)()
