# Backoff: the delays it gives after failures, Retry-After, and its countdown on a fake clock.
import m2x_micro
from checks import raises
from m2x_micro import backoff
from m2x_micro.backoff import Backoff


class FakeClock:
    """Stands in for backoff._now_ms; advance() moves time on."""

    def __init__(self, ms=1000):
        self.ms = ms

    def __call__(self):
        return self.ms

    def advance(self, ms):
        self.ms += ms


def on_clock(clock, fn):
    saved = backoff._now_ms
    backoff._now_ms = clock
    try:
        return fn()
    finally:
        backoff._now_ms = saved


def http_error(status, retry_after=None):
    return m2x_micro.HTTPError(status, "x", None, retry_after)


def test_exponential_sequence_without_jitter():
    b = Backoff(first_s=1, ceiling_s=300, factor=2, jitter=0)
    assert b.failures == 0
    assert [b.failed() for _ in range(6)] == [1000, 2000, 4000, 8000, 16000, 32000]
    assert b.failures == 6


def test_fractional_first_and_factor():
    b = Backoff(first_s=0.5, ceiling_s=10, factor=1.5, jitter=0)
    assert [b.failed() for _ in range(4)] == [500, 750, 1125, 1687]


def test_ceiling_caps_the_delay():
    b = Backoff(first_s=1, ceiling_s=10, factor=3, jitter=0)
    assert [b.failed() for _ in range(5)] == [1000, 3000, 9000, 10000, 10000]
    for _ in range(100):  # many failures later: still the ceiling, no overflow
        b.failed()
    assert b.failed() == 10000 and b.failures == 106


def test_jitter_draws_within_half_to_full_nominal():
    b = Backoff(first_s=8, ceiling_s=8, jitter=0.5)
    draws = [b.failed() for _ in range(200)]
    assert all(4000 <= d <= 8000 for d in draws)
    assert all(isinstance(d, int) for d in draws)
    assert len(set(draws)) > 1


def test_full_jitter_may_reach_zero_and_stays_in_range():
    b = Backoff(first_s=1, ceiling_s=1, jitter=1)
    assert all(0 <= b.failed() <= 1000 for _ in range(100))


def test_retry_after_honoured_on_429_and_503_even_above_ceiling():
    for status in (429, 503):
        b = Backoff(first_s=1, ceiling_s=10, jitter=0.5)
        assert b.failed(http_error(status, 7)) == 7000  # above the 1 s nominal, no jitter below it
        assert b.failed(http_error(status, 60)) == 60000  # above the 10 s ceiling
        assert b.failures == 2


def test_retry_after_shorter_than_backoff_keeps_backoff():
    b = Backoff(first_s=20, ceiling_s=20, jitter=0)
    assert b.failed(http_error(429, 3)) == 20000


def test_retry_after_ignored_on_other_errors():
    b = Backoff(first_s=1, ceiling_s=300, jitter=0)
    assert b.failed(http_error(500, 60)) == 1000
    assert b.failed(m2x_micro.NetworkError("timed out", 110)) == 2000
    assert b.failed(http_error(503)) == 4000  # 503 without Retry-After
    assert b.failed(ValueError("anything")) == 8000


def test_succeeded_resets():
    clock = FakeClock()

    def run():
        b = Backoff(first_s=1, jitter=0)
        b.failed()
        b.failed()
        assert not b.ready()
        b.succeeded()
        assert b.failures == 0 and b.ready() and b.wait_ms() == 0
        assert b.failed() == 1000

    on_clock(clock, run)


def test_wait_ms_counts_down_on_the_clock():
    clock = FakeClock(5000)

    def run():
        b = Backoff(first_s=2, jitter=0)
        assert b.ready() and b.wait_ms() == 0
        assert b.failed() == 2000
        assert b.wait_ms() == 2000 and not b.ready()
        clock.advance(1500)
        assert b.wait_ms() == 500 and not b.ready()
        clock.advance(499)
        assert b.wait_ms() == 1
        clock.advance(1)
        assert b.wait_ms() == 0 and b.ready()
        clock.advance(10 ** 6)
        assert b.wait_ms() == 0 and b.ready()
        assert b.failed() == 4000  # counted from this failure, not the first
        clock.advance(1000)
        assert b.wait_ms() == 3000

    on_clock(clock, run)


def test_sleep_waits_until_ready():
    b = Backoff(first_s=0.03, ceiling_s=0.03, jitter=0)
    assert b.failed() == 30
    b.sleep()
    assert b.ready()
    b.sleep()  # nothing left to wait: returns at once


def test_bad_arguments():
    for kw in ({"first_s": 0}, {"first_s": -1}, {"first_s": 0.0004}, {"ceiling_s": 5, "first_s": 10},
               {"ceiling_s": float("inf")}, {"factor": 0.5}, {"jitter": -0.1}, {"jitter": 1.5}):
        e = raises(ValueError, Backoff, **kw)
        assert [name for name in kw if name in str(e)], (kw, str(e))  # the message names the argument
    Backoff(factor=1, jitter=0)  # the limits themselves are allowed
    Backoff(first_s=5, ceiling_s=5, jitter=1)
