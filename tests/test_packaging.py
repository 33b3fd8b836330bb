# Packaging for boards: mip (package.json) and freezing (manifest.py), one version everywhere.
import functools
import http.server
import json
import re
import threading

import m2x_micro
from micropython_tools import ROOT, run_micropython


def test_versions_agree():
    pyproject = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    package = json.loads((ROOT / "package.json").read_text())["version"]
    manifest = re.search(r'version="([^"]+)"', (ROOT / "manifest.py").read_text()).group(1)
    assert m2x_micro.__version__ == pyproject == package == manifest


def test_manifest_freezes_the_client_and_requires_requests():
    calls = []
    record = lambda kind: lambda *args, **kw: calls.append((kind, args, kw))  # noqa: E731
    exec((ROOT / "manifest.py").read_text(), {name: record(name) for name in ("metadata", "require", "package", "module", "include")})
    assert ("require", ("requests",), {}) in calls
    packages = [args[0] for kind, args, kw in calls if kind == "package"]
    assert packages == ["m2x_micro"] and (ROOT / "m2x_micro" / "__init__.py").exists()


def test_mip_installs_the_package_and_it_talks_to_m2x_server(m2x_server, tmp_path):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(ROOT))
    handler.log_message = lambda *args: None
    files = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=files.serve_forever, daemon=True).start()
    lib = tmp_path / "lib"
    try:
        url = "http://127.0.0.1:%d/package.json" % files.server_address[1]
        install = run_micropython(["-c", "import mip; mip.install(%r, target=%r)" % (url, str(lib))], [])
    finally:
        files.shutdown()
        files.server_close()
    print(install.stdout, install.stderr)
    assert install.returncode == 0
    for module in ("__init__", "outbox", "backoff", "transport"):  # the core and its add-ons, as the folder
        assert (lib / "m2x_micro" / (module + ".py")).read_bytes() == (ROOT / "m2x_micro" / (module + ".py")).read_bytes()
    use = ("from m2x_micro import M2XClient\n"
           "from m2x_micro.outbox import Outbox\n"
           "from m2x_micro.transport import Transport\n"
           "c = M2XClient(%r, %r, transport=Transport())\n"
           "d = c.create_device(name='installed with mip', visibility='private')\n"
           "d.create_stream('t')\n"
           "box = Outbox(c, d.id, %r)\n"
           "box.add('t', 1)\n"
           "print(c.status()['api'], c.device(d.id)['name'], box.flush())\n" % (
               m2x_server.master_key, m2x_server.url, str(tmp_path / "outbox")))
    ran = run_micropython(["-c", use], [lib])
    assert (ran.returncode, ran.stdout.strip()) == (0, "OK installed with mip 1"), ran.stderr
