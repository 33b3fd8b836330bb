# When to try again after a failure: exponential backoff with jitter, honouring the
# server's Retry-After. It only says how long to wait; nothing sleeps unless sleep() is called.
import time
from random import getrandbits

from m2x_micro import HTTPError

try:  # MicroPython: ticks wrap, so intervals go through ticks_diff
    _now_ms = time.ticks_ms
    _diff = time.ticks_diff
    _sleep_ms = time.sleep_ms
except AttributeError:  # CPython
    def _now_ms():
        return time.monotonic_ns() // 1000000

    def _diff(a, b):
        return a - b

    def _sleep_ms(ms):
        time.sleep(ms / 1000)

# Longest delay given: ticks_diff is only meaningful within half the ticks period
# (2**29 ms, 6.2 days, on 32-bit ports), and a day stays a small int there.
_MAX_MS = 86400000


class Backoff:
    def __init__(self, first_s=1, ceiling_s=300, factor=2, jitter=0.5):
        if not first_s >= 0.001:  # a whole millisecond: less would never back off
            raise ValueError("first_s must be at least 0.001")
        if not first_s <= ceiling_s or ceiling_s - ceiling_s != 0:
            raise ValueError("ceiling_s must be finite and >= first_s")
        if factor < 1:
            raise ValueError("factor must be >= 1")
        if not 0 <= jitter <= 1:
            raise ValueError("jitter must be within [0, 1]")
        # Milliseconds as ints: ESP32 floats are single precision.
        self._first = int(first_s * 1000)
        self._ceiling = min(int(ceiling_s * 1000), _MAX_MS)
        self._factor = factor
        self._jitter = jitter
        self.succeeded()

    def succeeded(self):
        self.failures = 0
        self._nominal = 0
        self._delay = 0  # ms to wait, counted from self._since
        self._since = 0

    def failed(self, error=None):
        """Record a failed attempt; return the delay in ms before the next try."""
        self.failures += 1
        # Grown step by step (not first * factor**n) so it never becomes a big int.
        self._nominal = self._first if self.failures == 1 else min(int(self._nominal * self._factor), self._ceiling)
        # Equal jitter: uniform in [nominal * (1 - jitter), nominal], so boards that lost
        # the server together do not come back together.
        spread = int(self._nominal * self._jitter)
        delay = self._nominal - (getrandbits(30) % (spread + 1) if spread else 0)
        if isinstance(error, HTTPError) and error.status in (429, 503) and error.retry_after is not None:
            delay = max(delay, error.retry_after * 1000)  # the server asked: above the ceiling too
        self._delay = min(delay, _MAX_MS)
        self._since = _now_ms()
        return self._delay

    def wait_ms(self):
        """ms left before the next try is due; 0 when it is."""
        if self._delay:
            left = self._delay - _diff(_now_ms(), self._since)
            if left > 0:
                return left
            self._delay = 0  # due stays due, however long until the next call (ticks wrap)
        return 0

    def ready(self):
        return self.wait_ms() == 0

    def sleep(self):
        """Sleep until the next try is due (the only method that sleeps)."""
        _sleep_ms(self.wait_ms())
