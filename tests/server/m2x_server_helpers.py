"""Helpers for the m2x_server tests (a unique module name: test dirs share sys.path)."""

from server_process import MASTER


class Api:
    """Requests to /v2 paths of a test server, with the status checked when `expect` is given."""

    def __init__(self, server):
        self.server = server

    def call(self, method, path, expect=None, key=MASTER, **kwargs):
        response = self.server.request(method, "/v2" + path, key=key, **kwargs)
        if expect is not None:
            assert response.status_code == expect, (method, path, response.status_code, response.text)
        return response

    def get(self, path, expect=200, **kwargs):
        return self.call("GET", path, expect, **kwargs).json()

    def device(self, name="device", visibility="private", **fields):
        return self.call("POST", "/devices", 201, json=dict(fields, name=name, visibility=visibility)).json()

    def stream(self, device_id, name="temperature", **fields):
        return self.call("PUT", "/devices/%s/streams/%s" % (device_id, name), 201, json=fields).json()

    def key(self, permissions=("GET", "POST", "PUT", "DELETE"), name="key", **fields):
        return self.call("POST", "/keys", 201, json=dict(fields, name=name, permissions=list(permissions))).json()

    def put_value(self, device_id, stream, value, timestamp=None, key=MASTER):
        body = {"value": value} if timestamp is None else {"value": value, "timestamp": timestamp}
        self.call("PUT", "/devices/%s/streams/%s/value" % (device_id, stream), 202, key=key, json=body)

    def values(self, device_id, stream, **params):
        return self.get("/devices/%s/streams/%s/values" % (device_id, stream), params=params)["values"]


def at(second, ms=0, minute=0):
    """2026-01-02T03:MM:SS.mmmZ, a fixed timestamp for the tests."""
    return "2026-01-02T03:%02d:%02d.%03dZ" % (minute, second, ms)
