# Memory kept by the client must not grow with the number of requests.
import gc

import m2x_micro
from fake_http import FakeHTTP

DEVICE = {"id": "d1", "name": "dev", "visibility": "private", "streams": {"count": 1}}


class RecyclingHTTP(FakeHTTP):
    """Answers every request alike and keeps no history, so growth is the client's."""

    def request(self, method, url, data=None, headers=None, timeout=None, stream=None):
        self.replies.append((200, b'{"status":"accepted"}', {"Content-Type": "application/json"}))
        response = FakeHTTP.request(self, method, url, data, headers, timeout)
        self.calls = []
        self.responses = []
        return response


def allocated():
    gc.collect()
    try:
        return gc.mem_alloc()
    except AttributeError:  # CPython
        import tracemalloc
        return tracemalloc.get_traced_memory()[0]


def post_many(stream, count):
    for i in range(count):
        stream.add_value(i, 1435266414 + i)
        stream.post_values([{"value": i, "timestamp": "2015-06-25T21:06:54.841Z"}])


def test_memory_is_stable_over_200_requests():
    tracing = False
    try:
        import tracemalloc
        tracemalloc.start()
        tracing = True
    except ImportError:  # MicroPython: gc.mem_alloc() is the measure
        pass
    try:
        client = m2x_micro.M2XClient("k", "http://m2x.test", transport=RecyclingHTTP())
        stream = m2x_micro.Stream(client, {"name": "t"}, "/devices/d1/streams")
        post_many(stream, 20)  # warm up: interned strings, caches
        before = allocated()
        post_many(stream, 100)  # 200 requests
        grown = allocated() - before
    finally:
        if tracing:
            tracemalloc.stop()
    assert grown < 512, "%d bytes kept after 200 requests" % grown


def test_a_batch_already_in_api_form_is_not_copied():
    # Copies of each item, interleaved with the garbage of checking it, fragment a board's
    # heap until a large body no longer fits: items in API form must go as they are.
    client = m2x_micro.M2XClient("k", "http://m2x.test", transport=FakeHTTP())
    ready = [{"timestamp": "2015-06-25T21:06:54.%03dZ" % i, "value": i} for i in range(50)]
    stamped = client._stamp_values(ready)
    assert all([a is b for a, b in zip(stamped, ready)])
    loose = [{"timestamp": "2015-06-25T21:06:54.1Z", "value": 1}, {"value": 2, "timestamp": (2015, 6, 25, 21, 6, 54, 3, 176), "x": 0}]
    stamped = client._stamp_values(loose)
    assert stamped == [{"timestamp": "2015-06-25T21:06:54.100Z", "value": 1},
                       {"timestamp": "2015-06-25T21:06:54.000Z", "value": 2}]
    assert loose[0]["timestamp"] == "2015-06-25T21:06:54.1Z" and "x" in loose[1]  # the caller's data as it was
