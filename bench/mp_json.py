# What parsing answers from the socket (json.load on the stream) would save over parsing
# them from the bytes read, as the client does: the heap held by a parsed 200-value page of
# stream values (11 KB of JSON) with the bytes it came from, and parsed alone. A file stands
# for the socket.
import gc
import json

PAGE = "/tmp/m2x_bench_page.json"


def _held(parse):
    gc.collect()
    before = gc.mem_alloc()
    kept = parse()  # noqa: F841 - held while measured
    gc.collect()
    return gc.mem_alloc() - before


def _from_bytes():
    with open(PAGE, "rb") as f:
        body = f.read()
    return json.loads(body), body


def _from_stream():
    with open(PAGE) as f:
        return json.load(f)


def held():
    values = ['{"timestamp":"2026-12-02T05:00:00.%03dZ","value":%d.5}' % (i, i) for i in range(200)]
    with open(PAGE, "w") as f:
        f.write('{"limit":200,"end":"2026-12-02T05:00:00.199Z","values":[' + ",".join(values) + "]}")
    values = None
    return "%d / %d" % (_held(_from_bytes), _held(_from_stream))
