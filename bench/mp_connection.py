# The heap the transport add-on's connection keeps on MicroPython (a module of its own, so
# that no other measurement pays for it). mbedtls's buffers are not in this heap: on the
# unix port, as on an ESP32, mbedtls takes them from the C heap.
import gc

from mp_m2x import client, transport


def heap():
    """The heap over what it was before the first request: with the connection that request
    opened (and the TLS context it made), then after close(). "open / closed", in bytes."""
    http = transport()
    m2x = client(http)
    gc.collect()
    before = gc.mem_alloc()
    m2x.time_iso8601()
    gc.collect()
    kept = gc.mem_alloc() - before
    http.close()
    gc.collect()
    return "%d / %d" % (kept, gc.mem_alloc() - before)
