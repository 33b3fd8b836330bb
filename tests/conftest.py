"""Shared fixtures. `m2x_server`: a fresh server on a fresh database for each test."""

import pytest

from server_process import running_server


@pytest.fixture
def m2x_server(tmp_path):
    """An in-process m2x_server on a free loopback port (see tests/server_process.py)."""
    with running_server(tmp_path / "m2x.sqlite3") as server:
        yield server
