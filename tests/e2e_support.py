"""What the end-to-end suite (tests/e2e/) needs around a running m2x_server."""
import contextlib
import socket

from micropython_tools import ROOT, defined_tests

E2E = ROOT / "tests" / "e2e"
SUITE_MODULES = ["e2e_account", "e2e_devices", "e2e_groups"]


def suite_tests():
    """(module, test name) of every end-to-end test."""
    return [(module, name) for module in SUITE_MODULES for name in defined_tests(E2E / (module + ".py"))]


@contextlib.contextmanager
def dead_ends():
    """Two URLs: one where nothing listens, one that accepts connections and never answers."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        closed_port = closed.getsockname()[1]
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; nobody ever reads or answers
        yield "http://127.0.0.1:%d" % closed_port, "http://127.0.0.1:%d" % silent.getsockname()[1]


def suite_environment(server, closed_url, silent_url):
    return {"E2E_URL": server.url, "E2E_KEY": server.master_key,
            "E2E_CLOSED_URL": closed_url, "E2E_SILENT_URL": silent_url}
