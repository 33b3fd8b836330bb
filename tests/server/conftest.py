"""Fixtures for the m2x_server tests: `api` wraps the `m2x_server` fixture (tests/conftest.py)."""

import pytest

from m2x_server_helpers import Api


@pytest.fixture
def api(m2x_server):
    return Api(m2x_server)
