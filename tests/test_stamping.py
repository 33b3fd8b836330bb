# README "Timestamps": every value this client writes carries the client's own stamp,
# strictly increasing, so no reading it posts can replace another one it posted. The
# collision is forced: the server's clock and the client's are pinned to the same
# millisecond, where a value stamped by the server and one stamped by the client used to
# share a timestamp, and the server kept only one of them.
import time
import types

import m2x_micro
from m2x_server import app as server_app
from cpython_shim import urequests as shim

PINNED_MS = 1767225600000  # 2026-01-01T00:00:00.000Z


def pinned_time():
    clock = types.SimpleNamespace(**{name: getattr(time, name) for name in dir(time) if not name.startswith("_")})
    clock.time_ns = lambda: PINNED_MS * 1000000
    clock.time = lambda: PINNED_MS // 1000
    return clock


def test_values_written_alone_and_in_batches_in_one_millisecond_all_land(m2x_server, monkeypatch):
    client = m2x_micro.M2XClient(m2x_server.master_key, m2x_server.url, transport=shim)
    device = client.create_device(name="pinned", visibility="private")
    stream = device.create_stream("values")
    monkeypatch.setattr(server_app, "now_ms", lambda: PINNED_MS)
    monkeypatch.setattr(m2x_micro, "time", pinned_time())

    stream.add_value(1)
    stream.post_values([{"value": 2}, {"value": 3}])
    device.post_updates(values={"values": [{"value": 4}]})
    device.post_update(values={"values": 5})
    stream.update_value(6)

    stored = stream.values(limit=100)["values"]
    assert sorted(v["value"] for v in stored) == [1, 2, 3, 4, 5, 6]
    stamps = [m2x_micro.parse_iso8601(v["timestamp"]) for v in stored]
    assert sorted(stamps) == list(range(PINNED_MS, PINNED_MS + 6))
