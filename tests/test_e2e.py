# The end-to-end suite on CPython: m2x_micro through the urequests shim (so it fails where
# a board would) against a fresh m2x_server per test, over real loopback sockets.
import importlib
import sys

import pytest

from e2e_support import E2E, dead_ends, suite_environment, suite_tests

sys.path.insert(0, str(E2E))


@pytest.mark.parametrize("module, name", suite_tests())
def test_e2e_on_cpython(module, name, m2x_server, monkeypatch):
    from cpython_shim import urequests as shim

    monkeypatch.setitem(sys.modules, "urequests", shim)
    common = importlib.import_module("e2e_common")
    with dead_ends() as (closed_url, silent_url):
        for var, value in suite_environment(m2x_server, closed_url, silent_url).items():
            monkeypatch.setenv(var, value)
        monkeypatch.setattr(common, "URL", m2x_server.url)
        monkeypatch.setattr(common, "KEY", m2x_server.master_key)
        getattr(importlib.import_module(module), name)()
