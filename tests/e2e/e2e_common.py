# What the end-to-end tests share. They run m2x_micro against a real m2x_server over real
# sockets, as portable test_* functions in tests/e2e/e2e_*.py: pytest runs them on CPython
# through the urequests shim (tests/test_e2e.py), and mp_runner.py runs them on the
# MicroPython unix port (tests/test_e2e_micropython.py). The server's address and master key
# come from the environment: E2E_URL, E2E_KEY, E2E_CLOSED_URL (a port nothing listens on)
# and E2E_SILENT_URL (one that accepts and never answers).
import os

import m2x_micro
from checks import raises
from m2x_micro import HTTPError

URL = os.getenv("E2E_URL")
KEY = os.getenv("E2E_KEY")


def at(second, ms=0):
    return "2026-01-02T03:04:%02d.%03dZ" % (second, ms)


def client(key=None, url=None, timeout=10):
    return m2x_micro.M2XClient(key or KEY, url or URL, timeout=timeout)


def new_device(c, name="e2e device", **params):
    params.setdefault("visibility", "private")
    return c.create_device(name=name, **params)


def status_of(fn, *args, **kw):
    return raises(HTTPError, fn, *args, **kw).status
