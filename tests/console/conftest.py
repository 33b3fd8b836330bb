"""Fixtures of the console's browser tests: Debian's Chromium driven by Selenium through
Debian's chromedriver (never a driver or browser that Selenium would download).

`chromium_paths` is the one place that decides what happens without a browser: outside CI
the browser tests are skipped with what to install; in CI (CI=true) they fail.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from console_browser import Console, start_chromium
from server_process import running_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL = "make browser (apt-get install chromium chromium-driver, as root)"


def in_ci():
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def chromium_paths():
    """(chromium, chromedriver); a skip saying what to install, or in CI a failure."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not os.access(str(path), os.X_OK)]
    if missing:
        message = "the console's browser tests need Debian's Chromium: %s missing; install it with %s" % (
            " and ".join(missing), INSTALL)
        if in_ci():
            pytest.fail(message + " (CI=true: browser tests may not be skipped)", pytrace=False)
        pytest.skip(message)
    return CHROMIUM, CHROMEDRIVER


@pytest.fixture(scope="session")
def chromium(chromium_paths):
    """One headless Chromium for the session, with a fresh profile."""
    profile = tempfile.mkdtemp(prefix="m2x-console-chromium-")
    driver = start_chromium(*chromium_paths, profile)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def console(chromium, tmp_path):
    """A fresh m2x_server (its own port, so its own sessionStorage) and the browser on it."""
    with running_server(tmp_path / "m2x.sqlite3") as server:
        page = Console(chromium, server, tmp_path / "downloads")
        yield page
        page.leave()
