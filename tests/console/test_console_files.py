"""The console's files as m2x_server serves them (no browser needed): at / and /console/...,
with their types, revalidated on every use, nothing from another host, and no HTML built
from data in the scripts."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from m2x_server import console
from micropython_tools import ROOT

FILES = {
    "/": "text/html; charset=utf-8",
    "/console/console.js": "text/javascript; charset=utf-8",
    "/console/chart.js": "text/javascript; charset=utf-8",
    "/console/console.css": "text/css; charset=utf-8",
    "/console/favicon.svg": "image/svg+xml",
}


@pytest.mark.parametrize("path, content_type", FILES.items())
def test_each_file_is_served_with_its_type_and_revalidated(m2x_server, path, content_type):
    answer = m2x_server.request("GET", path, key=None)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == content_type
    assert answer.headers["Content-Length"] == str(len(answer.content))
    assert answer.headers["Cache-Control"] == "no-cache"  # stored, but checked before each use
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    etag = answer.headers["ETag"]
    again = m2x_server.request("GET", path, key=None, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert "Content-Length" not in again.headers and again.headers["ETag"] == etag
    stale = m2x_server.request("GET", path, key=None, headers={"If-None-Match": '"old", W/"older"'})
    assert stale.status_code == 200 and stale.content == answer.content
    head = m2x_server.request("HEAD", path, key=None)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Length"] == answer.headers["Content-Length"]


def test_the_page_names_only_files_of_this_server_and_forbids_the_rest(m2x_server):
    page = m2x_server.request("GET", "/", key=None)
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert page.headers["X-Frame-Options"] == "DENY"
    for name in re.findall(r'(?:src|href)="([^"#]+)"', page.text):
        assert name.startswith("/console/"), name
        assert m2x_server.request("GET", name, key=None).status_code == 200, name


def test_no_file_reaches_another_host_or_builds_html_from_data():
    for path in sorted(Path(console.STATIC).iterdir()):
        text = path.read_text()
        # No CDN, no font service: the console works on a LAN without internet.
        assert re.findall(r"https?://(?!www\.w3\.org/2000/svg)", text) == [], path.name
        if path.suffix == ".js":
            sinks = re.findall(r"\.(?:inner|outer)HTML\b|insertAdjacentHTML|document\.write|\beval\(|new Function", text)
            assert sinks == [], path.name
            assert "localStorage" not in text  # the key lives in sessionStorage only


@pytest.mark.parametrize("path", [
    "/console/missing.js", "/console/__init__.py", "/console/..%2F__init__.py", "/console/..%2F..%2Fhttpd.py",
    "/console/", "/console", "/index.html",
])
def test_anything_else_is_a_json_404(m2x_server, path):
    answer = m2x_server.request("GET", path, key=None)
    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == "application/json"


def test_the_api_is_where_it_was(m2x_server):
    assert m2x_server.request("POST", "/", key=None).status_code == 405
    assert m2x_server.request("GET", "/v2/status", key=None).json() == {"api": "OK", "triggers": "OK"}
    assert m2x_server.request("GET", "/v2", key=None).status_code == 404
    assert m2x_server.request("GET", "/v2/devices", key=None).status_code == 401


def test_an_edited_file_is_served_at_once_with_a_new_etag(m2x_server, tmp_path, monkeypatch):
    static = tmp_path / "static"
    shutil.copytree(str(Path(console.STATIC)), str(static))
    monkeypatch.setattr(console, "STATIC", str(static))
    first = m2x_server.request("GET", "/console/console.css", key=None)
    (static / "console.css").write_text("body { color: red; }\n")
    second = m2x_server.request("GET", "/console/console.css", key=None, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and second.text == "body { color: red; }\n"
    assert second.headers["ETag"] != first.headers["ETag"]


def test_an_installed_server_has_the_console(tmp_path):
    """What setuptools installs carries the pages (package data, not modules), where the
    installed m2x_server looks for them."""
    source = tmp_path / "source"  # a copy: building writes beside the sources
    shutil.copytree(str(ROOT), str(source), ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info",
                                                                          "__pycache__", "docs"))
    subprocess.run([sys.executable, "-c", "import setuptools; setuptools.setup()", "--quiet",
                    "build_py", "--build-lib", str(tmp_path / "lib")],
                   cwd=str(source), check=True, capture_output=True, text=True, timeout=120)
    probe = "import os, m2x_server.console as c; print(c.__file__); print(*sorted(os.listdir(c.STATIC)))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=str(tmp_path), env={"PYTHONPATH": str(tmp_path / "lib")},
                         check=True, capture_output=True, text=True).stdout.splitlines()
    assert out[0].startswith(str(tmp_path / "lib"))
    assert out[1].split() == sorted(path.name for path in Path(console.STATIC).iterdir())
