# Timestamps: formatting, parsing, and the two epochs (1970 on unix, 2000 on ESP32).
import time as _real_time

import m2x_micro
from checks import raises
from fake_http import FakeHTTP


class FakeTimeWithoutNs:
    """A time module on a chosen epoch whose clock reads a chosen Unix instant,
    without time_ns() as on older ports."""

    def __init__(self, epoch_year, unix_ms):
        self.epoch_year = epoch_year
        self.shift_ms = 946684800000 if epoch_year == 2000 else 0
        self.unix_ms = unix_ms

    def gmtime(self, secs=0):
        return (self.epoch_year, 1, 1, 0, 0, 0, 5 if self.epoch_year == 2000 else 3, 1)

    def time(self):
        return (self.unix_ms - self.shift_ms) // 1000

    # The monotonic clock stands still too: a request takes no time by either clock.
    def ticks_ms(self):
        return 0

    def monotonic_ns(self):
        return 0

    def __getattr__(self, name):  # the rest is the real one
        if name == "time_ns":
            raise AttributeError(name)
        return getattr(_real_time, name)


class FakeTime(FakeTimeWithoutNs):
    def time_ns(self):
        return (self.unix_ms - self.shift_ms) * 1000000


def on_clock(fake, fn):
    saved = m2x_micro.time
    m2x_micro.time = fake
    try:
        return fn()
    finally:
        m2x_micro.time = saved


INSTANT_MS = 1435266414841  # 2015-06-25T21:06:54.841Z
INSTANT = "2015-06-25T21:06:54.841Z"


def test_format_epoch_and_known_instants():
    assert m2x_micro.format_iso8601(0) == "1970-01-01T00:00:00.000Z"
    assert m2x_micro.format_iso8601(INSTANT_MS) == INSTANT
    assert m2x_micro.format_iso8601(951782400000) == "2000-02-29T00:00:00.000Z"
    assert m2x_micro.format_iso8601(4107542399999) == "2100-02-28T23:59:59.999Z"
    assert m2x_micro.format_iso8601(-1) == "1969-12-31T23:59:59.999Z"


def test_parse_every_accepted_flavour():
    assert m2x_micro.parse_iso8601(INSTANT) == INSTANT_MS
    assert m2x_micro.parse_iso8601("2015-06-25T21:06:54.841999Z") == INSTANT_MS
    assert m2x_micro.parse_iso8601("2015-06-25T21:06:54.8Z") == INSTANT_MS - 41
    assert m2x_micro.parse_iso8601("2015-06-25T21:06:54Z") == INSTANT_MS - 841
    assert m2x_micro.parse_iso8601("2015-06-25T14:06:54.841-07:00") == INSTANT_MS
    assert m2x_micro.parse_iso8601("2015-06-26T02:36:54.841+05:30") == INSTANT_MS


def test_parse_and_format_round_trip_across_centuries():
    for ms in (0, 946684800000, 951868800123, 1583020799999, 4102444800000, 253402300799999):
        assert m2x_micro.parse_iso8601(m2x_micro.format_iso8601(ms)) == ms


def test_parse_rejects_malformed_timestamps():
    for bad in ("", "2015-06-25", "2015-06-25 21:06:54Z", "2015-06-25T21:06:54", "2015-13-01T00:00:00Z",
                "2015-02-29T00:00:00Z", "2015-06-25T24:00:00Z", "2015-06-25T21:60:00Z", "2015-06-25T21:06:54.Z",
                "2015-06-25T21:06:54.841+0700", "2015-06-25T21:06:54.841X", "+015-06-25T21:06:54Z",
                "2015-06-25T21:06:5aZ", "yesterday"):
        raises(ValueError, m2x_micro.parse_iso8601, bad)
    raises(TypeError, m2x_micro.parse_iso8601, 1435266414)


def test_iso_string_input_is_validated_and_normalised():
    assert m2x_micro.iso8601("2015-06-25T14:06:54.841999-07:00") == INSTANT
    assert m2x_micro.iso8601("2015-06-25T21:06:54Z") == "2015-06-25T21:06:54.000Z"
    raises(ValueError, m2x_micro.iso8601, "2015-06-31T00:00:00Z")


def test_gmtime_tuple_is_a_calendar_date_on_either_epoch():
    assert m2x_micro.iso8601((2015, 6, 25, 21, 6, 54, 3, 176)) == "2015-06-25T21:06:54.000Z"
    assert on_clock(FakeTime(2000, 0), lambda: m2x_micro.iso8601((2015, 6, 25, 21, 6, 54, 3, 176))) == \
        "2015-06-25T21:06:54.000Z"
    raises(ValueError, m2x_micro.iso8601, (2015, 2, 30, 0, 0, 0, 0, 0))


def test_seconds_on_the_1970_epoch():
    def check():
        assert m2x_micro.iso8601(1435266414) == "2015-06-25T21:06:54.000Z"
        assert m2x_micro.iso8601(1435266414.841) == INSTANT
        assert m2x_micro.iso8601(0) == "1970-01-01T00:00:00.000Z"
    on_clock(FakeTime(1970, INSTANT_MS), check)


def test_seconds_on_the_2000_epoch():
    def check():
        # What time.time() returns on an ESP32 at that instant: seconds since 2000.
        assert m2x_micro.iso8601(1435266414 - 946684800) == "2015-06-25T21:06:54.000Z"
        assert m2x_micro.iso8601(0) == "2000-01-01T00:00:00.000Z"
    on_clock(FakeTime(2000, INSTANT_MS), check)


def new_client(http=None):
    return m2x_micro.M2XClient("k", "http://m2x.test", transport=http or FakeHTTP())


def test_now_on_both_epochs_with_and_without_time_ns():
    for fake in (FakeTime(1970, INSTANT_MS), FakeTime(2000, INSTANT_MS)):
        assert on_clock(fake, new_client().timestamp) == INSTANT
        assert on_clock(fake, new_client().now_ms) == INSTANT_MS
    for year in (1970, 2000):
        assert on_clock(FakeTimeWithoutNs(year, INSTANT_MS), new_client().timestamp) == "2015-06-25T21:06:54.000Z"


def test_stamps_made_in_one_millisecond_are_still_apart():
    # The server keeps one value per stream and timestamp: ten readings in the same
    # millisecond must get ten stamps.
    client = new_client()
    stamps = on_clock(FakeTime(2000, INSTANT_MS), lambda: [client.timestamp() for _ in range(10)])
    assert stamps == ["2015-06-25T21:06:54.%03dZ" % ms for ms in range(841, 851)]
    values = on_clock(FakeTime(2000, INSTANT_MS + 100), lambda: client._stamp_values([{"value": 1}, {"value": 2}]))
    assert [v["timestamp"] for v in values] == ["2015-06-25T21:06:54.941Z", "2015-06-25T21:06:54.942Z"]


def test_float_seconds_round_to_the_nearest_millisecond():
    def check():
        assert m2x_micro.iso8601(1435266414.001) == "2015-06-25T21:06:54.001Z"
        assert m2x_micro.iso8601(1700000000.3) == "2023-11-14T22:13:20.300Z"
        assert m2x_micro.iso8601(1435266414.9996) == "2015-06-25T21:06:55.000Z"
    on_clock(FakeTime(1970, INSTANT_MS), check)


def test_offsets_beyond_a_day_are_refused():
    for bad in ("2015-01-01T00:00:00+24:00", "2015-01-01T00:00:00+99:99", "2015-01-01T00:00:00-01:60"):
        raises(ValueError, m2x_micro.parse_iso8601, bad)


def test_bad_timestamp_types_and_values():
    raises(TypeError, m2x_micro.iso8601, True)
    raises(TypeError, m2x_micro.iso8601, [2015, 6, 25])
    raises(TypeError, m2x_micro.iso8601, {"year": 2015})
    raises(ValueError, m2x_micro.iso8601, float("nan"))
    raises(ValueError, m2x_micro.iso8601, float("inf"))


def test_sync_time_puts_library_stamps_in_server_time():
    http = FakeHTTP()
    server_ms = INSTANT_MS + 3600 * 1000  # the server is an hour ahead of the board
    http.reply(200, {"seconds": server_ms // 1000, "millis": server_ms, "iso8601": m2x_micro.format_iso8601(server_ms)})
    client = new_client(http)

    def check():
        assert client.sync_time() == 3600 * 1000
        assert http.last()[:2] == ("GET", "/v2/time")
        assert client.timestamp() == "2015-06-25T22:06:54.841Z"
        # Timestamps the caller gives are theirs: not shifted.
        assert client.timestamp(INSTANT) == INSTANT

    on_clock(FakeTime(2000, INSTANT_MS), check)


def test_values_without_timestamp_get_the_corrected_clock():
    http = FakeHTTP().reply(202, {"status": "accepted"})
    client = new_client(http)
    client.clock_offset = 1000
    stream = m2x_micro.Stream(client, {"name": "t"}, "/devices/d1/streams")
    on_clock(FakeTime(2000, INSTANT_MS), lambda: stream.post_values([{"value": 1}]))
    assert http.last()[3] == {"values": [{"timestamp": "2015-06-25T21:06:55.841Z", "value": 1}]}


class FakeRTC:
    def __init__(self):
        self.set_to = None

    def datetime(self, fields):
        self.set_to = fields


class FakeMachine:
    def __init__(self):
        self.rtc = FakeRTC()

    def RTC(self):
        return self.rtc


def test_sync_time_can_set_the_rtc():
    import sys
    http = FakeHTTP()
    http.reply(200, {"seconds": INSTANT_MS // 1000, "millis": INSTANT_MS, "iso8601": INSTANT})
    client = new_client(http)
    machine = FakeMachine()
    saved = sys.modules.get("machine")
    sys.modules["machine"] = machine
    try:
        on_clock(FakeTime(2000, 946684800000), lambda: client.sync_time(set_rtc=True))  # an unset clock
    finally:
        if saved is None:
            del sys.modules["machine"]
        else:
            sys.modules["machine"] = saved
    # (year, month, day, weekday with Monday 0, hour, minute, second, subseconds)
    assert machine.rtc.set_to == (2015, 6, 25, 3, 21, 6, 54, 0)
    # Our fake clock did not move, so the correction stays the server's offset.
    assert client.clock_offset == INSTANT_MS - 946684800000


def time_answer(server_ms):
    return {"seconds": server_ms // 1000, "millis": server_ms, "iso8601": m2x_micro.format_iso8601(server_ms)}


UNSET_MS = 946684800000 + 42000  # an ESP32 42 s after power-up: its clock reads 2000-01-01T00:00:42


def test_a_write_on_a_clock_not_yet_known_syncs_first_and_never_sends_a_2000_stamp():
    http = FakeHTTP().reply(200, time_answer(INSTANT_MS)).reply(202, {"status": "accepted"})
    client = new_client(http)
    stream = m2x_micro.Stream(client, {"name": "t"}, "/devices/d1/streams")
    assert not on_clock(FakeTime(2000, UNSET_MS), client.clock_known)
    on_clock(FakeTime(2000, UNSET_MS), lambda: stream.add_value(21))
    assert [call[:2] for call in http.calls] == [("GET", "http://m2x.test/v2/time"),
                                                  ("PUT", "http://m2x.test/v2/devices/d1/streams/t/value")]
    assert http.last()[3] == {"value": 21, "timestamp": INSTANT}
    assert on_clock(FakeTime(2000, UNSET_MS), client.clock_known)
    # What dates the stamps this boot made before it knew the time (the outbox uses it).
    assert client.early_correction == INSTANT_MS - UNSET_MS


class ClockSettingHTTP(FakeHTTP):
    """A transport that sets the board's clock while it carries the request, as the TLS
    transport does on a board's first connection after power-up."""

    def __init__(self, clock, to_ms):
        FakeHTTP.__init__(self)
        self.clock, self.to_ms = clock, to_ms

    def request(self, *args, **kwargs):
        self.clock.unix_ms = self.to_ms
        return FakeHTTP.request(self, *args, **kwargs)


def test_a_clock_set_during_sync_time_still_dates_the_stamps_made_before():
    clock = FakeTime(2000, UNSET_MS)
    set_to = INSTANT_MS - 2000  # the transport set the clock 2 s behind the server
    client = new_client(ClockSettingHTTP(clock, set_to).reply(200, time_answer(INSTANT_MS)))
    early_stamp = on_clock(clock, client.stamp_ms)
    # Now: the server's time by the new clock. Before: a stamp of the 2000 clock dated by
    # early_correction lands on the server's time of the request, not halfway between
    # 2000 and now.
    assert on_clock(clock, client.sync_time) == 2000
    assert early_stamp + client.early_correction == INSTANT_MS


def test_a_clock_that_reads_a_real_date_is_known_without_a_request():
    client = new_client(FakeHTTP())  # nothing queued: a request would fail the test
    assert on_clock(FakeTime(2000, INSTANT_MS), client.clock_known)
    assert on_clock(FakeTime(1970, INSTANT_MS), client.timestamp) == INSTANT
    assert client.early_correction is None


def test_stamps_keep_going_up_when_sync_time_moves_the_clock_back():
    # A clock an hour ahead stamped readings that the server holds; after the correction,
    # a new stamp must not land on one of theirs (one value per stream and timestamp).
    http = FakeHTTP().reply(200, time_answer(INSTANT_MS - 3600 * 1000))
    client = new_client(http)
    before = on_clock(FakeTime(1970, INSTANT_MS), client.stamp_ms)
    on_clock(FakeTime(1970, INSTANT_MS), client.sync_time)
    after = on_clock(FakeTime(1970, INSTANT_MS), client.stamp_ms)
    assert after == before + 1, (before, after)
