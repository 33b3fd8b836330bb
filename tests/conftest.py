"""Shared fixtures. `m2x_server`: a fresh server on a fresh database for each test; `tls_certs`:
certificates for https tests, made once a session."""

import pytest

from server_process import running_server


@pytest.fixture
def m2x_server(tmp_path):
    """An in-process m2x_server on a free loopback port (see tests/server_process.py)."""
    with running_server(tmp_path / "m2x.sqlite3") as server:
        yield server


@pytest.fixture(scope="session")
def tls_certs(tmp_path_factory):
    """A CA, an unknown CA, and good / wrong-host / expired server certificates, made once a
    session (tests/tls_support.py: a TlsCerts of str paths)."""
    from tls_support import make_test_certs

    return make_test_certs(tmp_path_factory.mktemp("tls"))
