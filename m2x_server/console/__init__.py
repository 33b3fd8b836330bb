"""The web console: static pages served at / and /console/{file}, never under /v2.

The pages are plain HTML, CSS and JavaScript in static/ (no build step, nothing fetched from
elsewhere, so they work on a LAN without internet) and reach the data only through the public
API, from the browser, with the key the user signs in with. Files are read on every request,
so an edited file is served at once; `Cache-Control: no-cache` with an ETag makes browsers
revalidate each time (a 304 when nothing changed), so an update is never hidden by a cache.
"""

import hashlib
import os
import re

from ..app import Response
from ..errors import NotFound

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
INDEX = "index.html"
# Only plain names of the folder's own files: a {file} segment may hold "..", or "/" as %2F.
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*\.(html|js|css|svg)$")
CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "svg": "image/svg+xml",
}
# Scripts, styles and requests from this server only; no inline script or style, no frames.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self';"
    " base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def index(ctx):
    """GET /: the console's page."""
    return _serve(ctx, INDEX)


def asset(ctx):
    """GET /console/{file}: its scripts, styles and icon."""
    return _serve(ctx, ctx.path["file"])


def _serve(ctx, name):
    match = NAME_RE.match(name)
    path = os.path.join(STATIC, name)
    if match is None or not os.path.isfile(path):
        raise NotFound.of("console file")
    with open(path, "rb") as f:
        content = f.read()
    etag = '"%s"' % hashlib.sha256(content).hexdigest()[:32]
    headers = [
        ("Cache-Control", "no-cache"),  # stored, but revalidated before every use
        ("ETag", etag),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
    ]
    if match.group(1) == "html":
        headers += [("Content-Security-Policy", CONTENT_SECURITY_POLICY), ("X-Frame-Options", "DENY")]
    if _not_modified(ctx.request.headers.get("If-None-Match"), etag):
        return Response(304, None, headers)
    return Response(200, content.decode("utf-8"), headers, content_type=CONTENT_TYPES[match.group(1)])


def _not_modified(if_none_match, etag):
    if not if_none_match:
        return False
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags or "W/" + etag in tags
