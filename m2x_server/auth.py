"""API keys and the access rules routes are declared with (spec section 6).

A rule authenticates the X-M2X-KEY header (401 when missing or unknown), checks the key's
own limits (403: expired, wrong origin, verb not permitted), loads the resource named in the
path (404), and checks the key reaches it (403). Master keys reach everything; device,
distribution and collection keys reach their devices only.
"""

import json

from . import records
from .errors import Forbidden, Unauthorized
from .storage import in_list

HEADER = "X-M2X-KEY"


class Credential:
    """The key a request was made with."""

    def __init__(self, row):
        self.device_id = row["device_id"]
        self.stream = row["stream"]
        self.distribution_id = row["distribution_id"]
        self.collection_id = row["collection_id"]
        self.master = not (self.device_id or self.distribution_id or self.collection_id)
        self.permissions = set(json.loads(row["permissions"]))


def authenticate(ctx):
    secret = ctx.request.headers.get(HEADER)
    if not secret:
        raise Unauthorized("Missing API key: send it in the %s header" % HEADER)
    row = ctx.query_one("SELECT * FROM keys WHERE key = ?", (secret,))
    if row is None:
        raise Unauthorized("The API key is not valid")
    key = Credential(row)
    if row["expires_at"] is not None and row["expires_at"] <= ctx.now:
        raise Forbidden("The API key has expired")
    if row["origin"] and row["origin"] not in (ctx.request.headers.get("Origin"), ctx.request.client_ip):
        raise Forbidden("The API key cannot be used from this origin")
    if ctx.request.method not in key.permissions:
        raise Forbidden("The API key does not permit %s requests" % ctx.request.method)
    return key


def reaches_device(ctx, key, device):
    if key.master:
        return True
    if key.device_id:
        return key.device_id == device["id"]
    if key.distribution_id:
        return key.distribution_id == device["distribution_id"]
    in_tree, args = in_list("collection_id", records.collection_tree_ids(ctx, key.collection_id))
    row = ctx.query_one("SELECT 1 FROM collection_devices WHERE device_id = ? AND " + in_tree, [device["id"]] + args)
    return row is not None


def _require_master(ctx):
    if not ctx.key.master:
        raise Forbidden("This request needs a master key")


# Access rules: one per route, called with the request context before the handler.

def public(ctx):
    """No key needed (status, catalog, export downloads)."""


def any_key(ctx):
    ctx.key = authenticate(ctx)


def master(ctx):
    ctx.key = authenticate(ctx)
    _require_master(ctx)


def device_member(ctx):
    """Keys reaching the device; a stream-limited key only under its own stream."""
    ctx.key = authenticate(ctx)
    device = records.device(ctx, ctx.path["device"])
    if not reaches_device(ctx, ctx.key, device):
        raise Forbidden("The API key cannot access this device")
    if ctx.key.stream and ctx.path.get("stream") != ctx.key.stream:
        raise Forbidden("The API key is limited to the stream '%s'" % ctx.key.stream)
    ctx.device = device


def device_admin(ctx):
    master(ctx)
    ctx.device = records.device(ctx, ctx.path["device"])


def distribution_member(ctx):
    """Master keys and the distribution's own keys (which may also register devices)."""
    ctx.key = authenticate(ctx)
    ctx.target = records.distribution(ctx, ctx.path["distribution"])
    if not (ctx.key.master or ctx.key.distribution_id == ctx.target["id"]):
        raise Forbidden("The API key cannot access this distribution")


def distribution_admin(ctx):
    master(ctx)
    ctx.target = records.distribution(ctx, ctx.path["distribution"])


def collection_member(ctx):
    """Master keys and keys of the collection or of a collection above it."""
    ctx.key = authenticate(ctx)
    ctx.target = records.collection(ctx, ctx.path["collection"])
    if ctx.key.master:
        return
    if not ctx.key.collection_id or ctx.target["id"] not in records.collection_tree_ids(ctx, ctx.key.collection_id):
        raise Forbidden("The API key cannot access this collection")


def collection_admin(ctx):
    master(ctx)
    ctx.target = records.collection(ctx, ctx.path["collection"])


def job_reader(ctx):
    """Master keys, and keys reaching the device whose values the job exported."""
    ctx.key = authenticate(ctx)
    ctx.target = records.job(ctx, ctx.path["job"])
    if ctx.key.master:
        return
    device_id = ctx.target["device_id"]
    device = ctx.query_one("SELECT * FROM devices WHERE id = ?", (device_id,)) if device_id else None
    if device is None or not reaches_device(ctx, ctx.key, device) or ctx.key.stream:
        raise Forbidden("The API key cannot access this job")
