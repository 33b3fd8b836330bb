"""Start m2x_server for tests, in this process or as `python -m m2x_server`.

    with running_server(tmp_path / "m2x.sqlite3") as server:          # a thread, fast
        server.url          # "http://127.0.0.1:54321": no trailing slash, no /v2
        server.master_key   # the account's primary master key
        server.db_path      # the SQLite file
        server.request("GET", "/v2/devices")               # requests.Response, master key
        server.request("GET", "/v2/status", key=None)      # no key header
        server.request("PUT", "/v2/...", key=device_key, json={...})
        server.restart()    # same database (and, for a subprocess, the same port)

    with running_server(path, subprocess=True) as server:  # the real CLI; .process, .stop()

    with running_server(path, tls_cert=c, tls_key=k, ca=ca_pem, idle_timeout=1) as server:
        server.url          # "https://127.0.0.1:54321"; request() verifies against ca
        server.connections_accepted   # in-process only: TCP connections since the last start

Both kinds have the same attributes (and .port); stop() and start() may be called in turn,
and a restart keeps the port, so .url stays valid.
"""

import contextlib
import os
import queue
import subprocess as _subprocess
import sys
import threading
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent  # pytest.ini puts it on sys.path, for the in-process server
MASTER = object()  # request(key=MASTER): send the server's current master key
START_TIMEOUT = 20


class ServerHandle:
    """What both kinds of test server offer."""

    url = None
    master_key = None

    def __init__(self, db_path, master_key=None, tls_cert=None, tls_key=None, idle_timeout=None, ca=None):
        """tls_cert/tls_key: serve https; ca: the CA file request() verifies https against;
        idle_timeout: the server's, in seconds (None: its default)."""
        self.db_path = Path(db_path)
        self.requested_master_key = master_key
        self.tls_cert = tls_cert
        self.tls_key = tls_key
        self.idle_timeout = idle_timeout
        self.ca = ca

    def api_url(self, path):
        """url + "/v2" + path, for clients that take full URLs."""
        return self.url + "/v2" + path

    def request(self, method, path, key=MASTER, headers=None, **kwargs):
        """One HTTP request with `requests` (fresh connection) to url + path.

        key: MASTER (default) for the master key, None for no X-M2X-KEY header, or a key.
        kwargs go to requests.request: json=, data=, params=, timeout=...
        """
        headers = dict(headers or {})
        if key is MASTER:
            key = self.master_key
        if key is not None:
            headers["X-M2X-KEY"] = key
        kwargs.setdefault("timeout", 10)
        if self.ca is not None:
            kwargs.setdefault("verify", str(self.ca))
        return requests.request(method, self.url + path, headers=headers, **kwargs)

    def restart(self):
        self.stop()
        self.start()

    def start(self):
        raise NotImplementedError

    def stop(self):
        raise NotImplementedError


class InProcessServer(ServerHandle):
    """m2x_server in a background thread of the test process."""

    def __init__(self, db_path, master_key=None, **options):
        super().__init__(db_path, master_key, **options)
        self.server = None
        self.port = 0

    @property
    def connections_accepted(self):
        """TCP connections the running server accepted (a restart counts from 0 again)."""
        return self.server.connections_accepted

    def start(self):
        from m2x_server import make_server

        options = {} if self.idle_timeout is None else {"idle_timeout": self.idle_timeout}
        self.server = make_server("127.0.0.1", self.port, str(self.db_path), self.requested_master_key,
                                  _str(self.tls_cert), _str(self.tls_key), **options).start()
        self.url = self.server.url
        self.port = self.server.port  # a restart listens on the same port
        self.master_key = self.server.master_key

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server = None


class SubprocessServer(ServerHandle):
    """`python -m m2x_server` in a child process; its stderr goes to db_path + '.stderr'."""

    def __init__(self, db_path, master_key=None, extra_args=(), **options):
        super().__init__(db_path, master_key, **options)
        self.extra_args = list(extra_args)
        self.process = None
        self.port = 0
        self.startup_lines = []
        self.stderr_path = Path(str(self.db_path) + ".stderr")

    def command(self):
        args = [sys.executable, "-m", "m2x_server", "--host", "127.0.0.1", "--port", str(self.port),
                "--db", str(self.db_path)] + self.extra_args
        if self.tls_cert is not None:
            args += ["--tls-cert", str(self.tls_cert), "--tls-key", str(self.tls_key)]
        if self.idle_timeout is not None:
            args += ["--idle-timeout", str(self.idle_timeout)]
        if self.requested_master_key:
            args += ["--master-key", self.requested_master_key]
        return args

    def start(self):
        env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        with open(self.stderr_path, "ab") as stderr:
            self.process = _subprocess.Popen(self.command(), cwd=str(REPO), env=env,
                                             stdout=_subprocess.PIPE, stderr=stderr, text=True)
        self.startup_lines = self._read_startup()
        for line in self.startup_lines:
            if line.startswith("master key: "):
                self.master_key = line[len("master key: "):]
        self.url = self.startup_lines[-1].rsplit(" ", 1)[1]
        self.port = int(self.url.rsplit(":", 1)[1])  # a restart listens on the same port
        if self.requested_master_key:
            self.master_key = self.requested_master_key

    def _read_startup(self):
        """stdout lines up to and including 'm2x_server listening on URL'."""
        lines = queue.Queue()
        threading.Thread(target=_pump_lines, args=(self.process.stdout, lines), daemon=True).start()
        startup = []
        deadline = time.monotonic() + START_TIMEOUT
        while not startup or not startup[-1].startswith("m2x_server listening on "):
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                self.process.kill()
                self.process.wait()
                raise RuntimeError("m2x_server did not start: %r\n%s" % (startup, self.stderr_path.read_text()))
            startup.append(line.rstrip("\n"))
        return startup

    def stop(self, timeout=10):
        """SIGTERM and wait; returns the exit status."""
        if self.process is None:
            return None
        self.process.terminate()
        try:
            status = self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self.process = None
        return status


def _str(path):
    return None if path is None else str(path)


def _pump_lines(stream, lines):
    """Move a child's stdout lines to a queue (None at the end), keeping the pipe drained."""
    with stream:
        for line in iter(stream.readline, ""):
            lines.put(line)
    lines.put(None)


@contextlib.contextmanager
def running_server(db_path, subprocess=False, master_key=None, **options):
    """A started server on db_path, stopped on exit. options: tls_cert, tls_key, ca,
    idle_timeout (see ServerHandle), and extra_args for a subprocess."""
    server = (SubprocessServer if subprocess else InProcessServer)(db_path, master_key, **options)
    server.start()
    try:
        yield server
    finally:
        server.stop()
