"""The device's urequests on CPython. `cpython_shim.install()` makes `import urequests`
(and so m2x_micro) use it; or put this folder first on PYTHONPATH."""
import sys


def install():
    from cpython_shim import urequests

    sys.modules["urequests"] = urequests
    return urequests
