# `pip install .` on CPython gives the client, the shim and the server.
import shutil
import subprocess
import sys

from micropython_tools import ROOT


def test_pip_install_gives_importable_packages(tmp_path):
    target = tmp_path / "site"
    source = tmp_path / "source"  # a copy: building writes build/ and *.egg-info beside the sources
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(source)],
                   check=True, capture_output=True, text=True, timeout=300)
    probe = ("import m2x_micro, cpython_shim, m2x_server; "
             "print(m2x_micro.__version__, m2x_micro.__file__.startswith(%r))" % str(target))
    out = subprocess.run([sys.executable, "-c", probe], cwd=str(tmp_path), env={"PYTHONPATH": str(target)},
                         check=True, capture_output=True, text=True)
    assert out.stdout.split() == ["0.1.0", "True"]
