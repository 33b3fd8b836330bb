# `pip install .` on CPython gives the client, the shim and the server.
import subprocess
import sys

from micropython_tools import ROOT


def test_pip_install_gives_importable_packages(tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(ROOT)],
                   check=True, capture_output=True, text=True, timeout=300)
    probe = ("import m2x_micro, cpython_shim, m2x_server; "
             "print(m2x_micro.__version__, m2x_micro.__file__.startswith(%r))" % str(target))
    out = subprocess.run([sys.executable, "-c", probe], cwd=str(tmp_path), env={"PYTHONPATH": str(target)},
                         check=True, capture_output=True, text=True)
    assert out.stdout.split() == ["0.1.0", "True"]
