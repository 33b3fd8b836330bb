# The outbox (m2x_micro/outbox.py) against a fake client that records the streamed bodies:
# what is on flash, what goes out, what is committed, and what survives a torn write,
# a crash between the server's 2xx and the commit, a full outbox and refusals.
import json
import os

import m2x_micro
from checks import raises
from m2x_micro import HTTPError, NetworkError
from m2x_micro import outbox as outbox_module
from m2x_micro.outbox import Outbox

T0 = 1767225600000  # 2026-01-01T00:00:00.000Z
BOOT = 946684800000  # 2000-01-01: a board's clock after power-up
_made = [0]


class FakeClient:
    """request/stamp_ms/clock_known/sync_time/early_correction, as the outbox uses them.
    Each request's chunks are joined, checked against length and parsed."""

    def __init__(self, now=T0, known=True):
        self.now = now
        self.known = known
        self.early_correction = None
        self.correction = T0 - BOOT  # what sync_time finds
        self.syncs = 0
        self.calls = []  # (path, raw body bytes, parsed body, accepted)
        self.chunks = []  # the chunks of the last body
        self.failures = []  # exceptions raised by the next requests, in turn (None: succeed)
        self.refuse = None  # a value: any body holding it gets a 422
        self.cut = None  # an exception raised after the first chunk, as a dropped connection

    def stamp_ms(self):
        self.now += 1
        return self.now

    def clock_known(self):
        return self.known

    def sync_time(self, set_rtc=False):
        self.syncs += 1
        if not self.known:
            self.early_correction = self.correction
        self.known = True
        self.now += self.correction
        return self.correction

    def request(self, method, path, data=None, length=None):
        assert method == "POST"
        if self.cut:
            next(data)
            raise self.cut
        # Each chunk checked and copied as it comes, as a transport sends it before it asks
        # for the next: the body makes every chunk in one buffer.
        chunks = self.chunks = []
        for chunk in data:
            assert isinstance(chunk, (bytes, bytearray)) and 0 < len(chunk) <= 256 + 450  # one long reading may overrun
            chunks.append(bytes(chunk))
        raw = b"".join(chunks)
        assert len(raw) == length
        body = json.loads(raw)
        failure = self.failures.pop(0) if self.failures else None
        if self.refuse is not None:
            for name in body["values"]:
                for item in body["values"][name]:
                    if item["value"] == self.refuse:
                        failure = failure or HTTPError(422, "Validation Failed", {name: ["not_numeric"]})
        self.calls.append((path, raw, body, failure is None))
        if failure:
            raise failure
        return {"status": "accepted"}

    def posted(self, every=False):
        """[(stream, timestamp, value), ...] of the accepted requests (every: of all), request
        after request, each request's in timestamp order (streams come in a dict's order,
        which MicroPython does not keep as they were added; nor need it)."""
        out = []
        for call in self.calls:
            if every or call[3]:
                values = call[2]["values"]
                request = []
                for name in values:
                    request += [(item["timestamp"], name, item["value"]) for item in values[name]]
                request.sort()
                out += [(name, stamp, value) for stamp, name, value in request]
        return out


def new_dir():
    # A fresh directory under /tmp (no tempfile module on MicroPython); random, as other
    # runs of these tests may share /tmp.
    _made[0] += 1
    path = "/tmp/m2x-outbox-test-%d-%d" % (int.from_bytes(os.urandom(6), "big"), _made[0])
    os.mkdir(path)
    return path


def remove_dir(path):
    for name in os.listdir(path):
        os.remove(path + "/" + name)
    os.rmdir(path)


def in_dir(test):
    # Runs test(path) in a fresh directory, removed afterwards.
    path = new_dir()
    try:
        test(path)
    finally:
        remove_dir(path)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def iso(ms):
    return m2x_micro.format_iso8601(ms)


def test_add_writes_one_line_of_len_stream_plus_value_plus_23_bytes():
    def test(path):
        client = FakeClient()
        box = Outbox(client, "d1", path)
        box.add("temperature", 21.5)
        size = len(read(path + "/q"))
        box.add("temperature", 21.5)
        assert len(read(path + "/q")) - size == len("temperature") + len("21.5") + 23
        box.add("temperature", 21.5, timestamp=1767225600)  # seconds on this interpreter's epoch
        last = read(path + "/q").split(b"\n")[-2]
        assert last.split(b"\t")[:3] == [b"temperature", b"1767225600000", b"21.5"]
        assert box.pending() == 3
    in_dir(test)


def test_add_refuses_bad_readings_before_writing():
    def test(path):
        box = Outbox(FakeClient(), "d1", path)
        for stream, value, error in ((5, 1, TypeError), (None, 1, TypeError), (b"s", 1, TypeError),
                                     ("", 1, ValueError), ("a\tb", 1, ValueError), ("a\nb", 1, ValueError),
                                     ("s" * 129, 1, ValueError), ("s", True, TypeError), ("s", None, TypeError),
                                     ("s", [1], TypeError), ("s", b"1", TypeError), ("s", float("nan"), ValueError),
                                     ("s", float("inf"), ValueError), ("s", "x" * 400, ValueError)):
            raises(error, box.add, stream, value)
        raises(ValueError, box.add, "s", 1, "not a time")
        raises(TypeError, box.add, "s", 1, [2026])
        raises(ValueError, box.add, "s", 1, "10000-01-01T00:00:00Z")
        assert box.pending() == 0 and "q" not in os.listdir(path)
        box.add("s" * 128, "x" * 200)  # the longest name, and a long text value
        box.add("s", -3)
        assert box.pending() == 2
    in_dir(test)


def test_flush_sends_one_request_grouped_per_stream_and_commits():
    def test(path):
        client = FakeClient()
        box = Outbox(client, "dev1", path)
        box.add("s1", 1)
        box.add("s2", "text \"quoted\" \u00e9")
        box.add("s1", 2.5, timestamp="2025-06-30T23:59:59.999Z")
        box.add("s3", -4)
        box.add("s1", 3)
        assert box.flush() == 5
        assert len(client.calls) == 1
        route, raw, body, accepted = client.calls[0]
        assert route == "/devices/dev1/updates"
        assert body == {"values": {
            "s1": [{"timestamp": iso(T0 + 1), "value": 1}, {"timestamp": "2025-06-30T23:59:59.999Z", "value": 2.5},
                   {"timestamp": iso(T0 + 4), "value": 3}],
            "s2": [{"timestamp": iso(T0 + 2), "value": "text \"quoted\" \u00e9"}],
            "s3": [{"timestamp": iso(T0 + 3), "value": -4}]}}
        assert raw.startswith(b'{"values":{"s') and b'"s2":[{"timestamp":"%s","value":"text' % iso(T0 + 2).encode() in raw
        assert box.pending() == 0
        assert box.flush() == 0 and len(client.calls) == 1  # nothing left: no request
        assert "q" not in os.listdir(path)  # all delivered: the queue file is gone
        box.add("s1", 7)
        assert box.flush() == 1 and client.posted()[-1] == ("s1", iso(T0 + 5), 7)
    in_dir(test)


def test_windows_of_max_values_and_max_requests():
    def test(path):
        client = FakeClient()
        box = Outbox(client, "d1", path)
        for i in range(7):
            box.add("s%d" % (i % 2), i)
        assert box.flush(max_values=3, max_requests=2) == 6
        assert [len(c[2]["values"].get("s0", [])) + len(c[2]["values"].get("s1", [])) for c in client.calls] == [3, 3]
        assert box.pending() == 1
        assert box.flush(max_values=3) == 1
        assert sorted(v for s, t, v in client.posted()) == list(range(7))
        raises(ValueError, box.flush, 0)
    in_dir(test)


def test_a_big_window_streams_in_small_chunks():
    def test(path):
        client = FakeClient()
        box = Outbox(client, "d1", path)
        for i in range(300):
            box.add("stream-%d" % (i % 7), "v" * (i % 50) if i % 3 else i * 0.5)
        assert box.flush(max_values=300) == 300  # the fake checks chunk sizes and length
        assert len(client.calls) == 1 and len(client.calls[0][1]) > 10000
        assert max([len(chunk) for chunk in client.chunks]) <= 256  # readings this short fit a block
        posted = client.posted()
        assert sorted(posted, key=lambda p: p[1]) == [
            ("stream-%d" % (i % 7), iso(T0 + 1 + i), "v" * (i % 50) if i % 3 else i * 0.5) for i in range(300)]
    in_dir(test)


def test_reopening_continues_where_the_last_left_off():
    def test(path):
        client = FakeClient()
        box = Outbox(client, "d1", path)
        for i in range(5):
            box.add("s", i)
        assert box.flush(max_values=2, max_requests=1) == 2
        box = Outbox(client, "d1", path)
        assert box.pending() == 3
        assert box.flush() == 3
        assert [v for s, t, v in client.posted()] == [0, 1, 2, 3, 4]
        assert Outbox(client, "d1", path).pending() == 0
    in_dir(test)


def last_record_cut(path, client):
    # Four readings; returns the file and the offset where the last one starts.
    box = Outbox(client, "d1", path)
    for i in range(3):
        box.add("s", i)
    start = len(read(path + "/q"))
    box.add("s", 3.25)
    return read(path + "/q"), start


def test_a_torn_last_record_is_skipped_at_every_cut_and_the_next_reading_kept():
    def test(path):
        client = FakeClient()
        whole, start = last_record_cut(path, client)
        for cut in range(start, len(whole)):  # every offset short of the whole line
            for name in os.listdir(path):
                os.remove(path + "/" + name)
            write(path + "/q", whole[:cut])
            client.calls = []
            box = Outbox(client, "d1", path)
            assert box.pending() == 3
            box.add("s", 99, timestamp="2026-02-01T00:00:00Z")  # after the torn line: kept
            assert box.pending() == 4
            assert box.flush() == 4
            assert [v for s, t, v in client.posted()] == [0, 1, 2, 99], cut
        for name in os.listdir(path):
            os.remove(path + "/" + name)
        write(path + "/q", whole)
        assert Outbox(client, "d1", path).pending() == 4  # the whole line counts
    in_dir(test)


def test_garbage_and_zero_bytes_after_the_last_record_are_skipped():
    def test(path):
        client = FakeClient()
        whole, start = last_record_cut(path, client)
        for tail in (b"\x00" * 700, b"s\t1\t2\t3\n\xff\xfe", b"\n\n\t\n", b"s\t1767225600000\t5\t000000\n",
                     whole[start:-3] + b"\n" + b"\x00" * 5):
            for name in os.listdir(path):
                os.remove(path + "/" + name)
            write(path + "/q", whole + tail)
            client.calls = []
            box = Outbox(client, "d1", path)
            assert box.pending() == 4
            box.add("s", 99)
            assert box.flush() == 5
            assert [v for s, t, v in client.posted()] == [0, 1, 2, 3.25, 99], tail
    in_dir(test)


class CutWrite:
    """A file of q whose write() puts all but the last 4 bytes on flash, then fails."""

    def __init__(self, name, mode):
        self.file = open(name, mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()

    def write(self, data):
        self.file.write(data[:-4])
        raise OSError(28, "ENOSPC")

    def __getattr__(self, name):
        return getattr(self.file, name)


def test_what_a_failed_append_left_is_checked_and_ends_the_window_before_it():
    # This Outbox does not check again the lines it appended whole, but what a failed write
    # left (here a line whose fields are all there and its checksum cut) is garbage; the
    # readings after it go in the next request.
    def test(path):
        client = FakeClient()
        box = Outbox(client, "d1", path)
        for i in range(3):
            box.add("s", i)
        outbox_module.open = CutWrite
        try:
            raises(OSError, box.add, "s", 3.25)
        finally:
            del outbox_module.open
        box.add("s", 4)
        box.add("s", 5)
        assert box.pending() == 5 and box.flush() == 5
        assert [v for s, t, v in client.posted()] == [0, 1, 2, 4, 5]
        assert len(client.calls) == 2
    in_dir(test)


def test_a_crash_between_the_2xx_and_the_commit_resends_the_same_bytes():
    # The commit of a window is the head file written; of the last window, q removed.
    def test(path):
        client = FakeClient()
        box = Outbox(client, "d1", path)
        for i in range(10):
            box.add("s%d" % (i % 3), i)

        def power_loss(head):
            raise OSError(5, "EIO")  # power lost before the head file is written
        box._save = power_loss
        raises(OSError, box.flush, 4)
        box = Outbox(client, "d1", path)  # the next boot
        assert box.pending() == 10
        assert box.flush(4, 1) == 4
        assert len(client.calls) == 2 and client.calls[0][1] == client.calls[1][1]
        box = Outbox(client, "d1", path)
        assert box.pending() == 6
        outbox_module.os = NoRemove(os)  # power lost before q is removed
        try:
            raises(OSError, box.flush)
        finally:
            outbox_module.os = os
        assert box.pending() == 0 and box.flush() == 0 and box.pending() == 0  # delivered, in this boot
        box = Outbox(client, "d1", path)
        assert box.pending() == 6
        assert box.flush() == 6
        assert len(client.calls) == 4 and client.calls[2][1] == client.calls[3][1]
        assert Outbox(client, "d1", path).pending() == 0
    in_dir(test)


def test_a_drain_writes_no_head():
    # Flash written per drain: none. The head of the partial flush before is left as it
    # was (it names the removed q), and the next boot finds nothing to send.
    def test(path):
        client = FakeClient()
        box = Outbox(client, "d1", path)
        for i in range(10):
            box.add("s", i)
        assert box.flush(4, 1) == 4
        head = read(path + "/head")
        assert box.flush() == 6 and box.pending() == 0
        assert read(path + "/head") == head and "q" not in os.listdir(path)
        box = Outbox(client, "d1", path)
        assert box.pending() == 0 and box.flush() == 0
        box.add("s", 10)
        assert Outbox(client, "d1", path).pending() == 1
    in_dir(test)


class NoRemove:
    """The os module, where removing a file fails as on a power cut."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        return getattr(self._module, name)

    def remove(self, name):
        raise OSError(5, "EIO")


def test_a_crash_after_the_new_head_is_written_but_not_renamed_keeps_the_commit():
    def test(path):
        client = FakeClient()
        box = Outbox(client, "d1", path)
        for i in range(4):
            box.add("s", i)
        box.flush(max_values=2, max_requests=1)
        saved = outbox_module._rename

        def power_loss(src, dst):
            raise OSError(5, "EIO")  # head.tmp is whole, the rename never happens
        outbox_module._rename = power_loss
        try:
            raises(OSError, box.flush, 1, 1)
        finally:
            outbox_module._rename = saved
        assert "head.tmp" in os.listdir(path)
        box = Outbox(client, "d1", path)
        assert box.pending() == 2  # head still says 2 delivered; head.tmp, written after the 2xx, says 3
        os.remove(path + "/head")  # as FAT leaves it between its remove and rename
        box = Outbox(client, "d1", path)
        assert box.pending() == 1 and box.flush() == 1
        assert [v for s, t, v in client.posted()] == [0, 1, 2, 3]
    in_dir(test)


def test_a_full_outbox_drops_the_oldest_and_counts_them_persistently():
    def test(path):
        client = FakeClient()
        box = Outbox(client, "d1", path, max_bytes=2048)
        for i in range(200):
            box.add("s", i)
            assert len(read(path + "/q")) <= 2048
        assert box.dropped > 0 and box.pending() + box.dropped == 200
        box = Outbox(client, "d1", path, max_bytes=2048)
        assert box.pending() + box.dropped == 200
        kept = box.pending()
        assert box.flush() == kept
        assert [v for s, t, v in client.posted()] == list(range(200 - kept, 200))  # the newest
        assert Outbox(client, "d1", path, max_bytes=2048).dropped == 200 - kept
    in_dir(test)


def test_delivered_space_is_compacted_away_before_anything_is_dropped():
    def test(path):
        client = FakeClient()
        box = Outbox(client, "d1", path, max_bytes=2048)
        for i in range(120):
            box.add("s", i)
            if i % 10 == 9:
                box.flush(max_values=7, max_requests=1)  # leaves a growing undelivered tail
            assert len(read(path + "/q")) <= 2048
        assert box.dropped == 0
        box = Outbox(client, "d1", path, max_bytes=2048)
        box.flush()
        assert [v for s, t, v in client.posted()] == list(range(120))
    in_dir(test)


def test_halving_isolates_one_refused_reading_and_delivers_the_rest():
    def test(path):
        client = FakeClient()
        client.refuse = "bad"
        box = Outbox(client, "d1", path)
        for i in range(100):
            box.add("s%d" % (i % 4), "bad" if i == 61 else i)
        assert box.flush() == 99
        assert box.pending() == 0 and len(client.calls) < 30
        assert sorted(v for s, t, v in client.posted() if v != "bad") == [i for i in range(100) if i != 61]
        refused = box.refused()
        assert refused == [("s1", T0 + 62, "bad", 'HTTP 422: Validation Failed {"s1": ["not_numeric"]}')]
        assert Outbox(client, "d1", path).refused() == refused  # on flash
        box.clear_refused()
        assert box.refused() == [] and Outbox(client, "d1", path).refused() == []
        box.clear_refused()
    in_dir(test)


def test_one_request_a_call_still_isolates_a_refused_reading_and_moves_on():
    # The halved window lasts from one flush(max_requests=1) to the next: a loop that allows
    # one request a round sets the bad reading aside after a few rounds, then delivers.
    def test(path):
        client = FakeClient()
        client.refuse = "bad"
        box = Outbox(client, "d1", path)
        for i in range(10):
            box.add("s", "bad" if i == 3 else i)
        delivered = [box.flush(max_values=10, max_requests=1) for _ in range(20)]
        assert box.pending() == 0 and sum(delivered) == 9, delivered
        assert box.set_aside == 1 and [r[2] for r in box.refused()] == ["bad"]
        box.add("s", 10)
        assert box.flush(max_values=10, max_requests=1) == 1  # the window is whole again
    in_dir(test)


def test_a_torn_header_is_a_first_write_cut_short_and_the_queue_starts_again():
    # q's header and its first reading go in one write: a header cut short holds nothing
    # that add() returned for, and must not make the saved head unusable.
    def test(path):
        client = FakeClient()
        Outbox(client, "d1", path).add("s", 0)
        whole = read(path + "/q")
        write(path + "/q", whole[:5])
        box = Outbox(client, "d1", path)
        assert box.pending() == 0
        for value in (1, 2):
            box.add("s", value)
        assert box.flush() == 2
        box.add("s", 3)
        reopened = Outbox(client, "d1", path)
        assert reopened.pending() == 1 and reopened.flush() == 1
        assert [v for s, t, v in client.posted()] == [1, 2, 3]  # none sent twice
    in_dir(test)


def test_every_permanent_refusal_status_sets_aside_only_the_reading():
    def test(path):
        for status in (400, 409, 413, 422):
            client = FakeClient()
            box = Outbox(client, "d1", path)
            box.add("s", 1)
            client.failures = [HTTPError(status, "no")]
            assert box.flush() == 0 and box.pending() == 0
            assert box.refused()[-1][3] == "HTTP %d: no" % status
    in_dir(test)


def test_401_403_and_404_raise_and_drop_nothing():
    def test(path):
        client = FakeClient()
        box = Outbox(client, "d1", path)
        for i in range(5):
            box.add("s", i)
        for status in (401, 403, 404):
            client.failures = [HTTPError(status, "no")]
            assert raises(HTTPError, box.flush).status == status
            assert box.pending() == 5 and Outbox(client, "d1", path).pending() == 5
        box = Outbox(client, "d1", path)
        assert box.flush() == 5 and box.refused() == []
    in_dir(test)


def test_transient_errors_raise_after_committing_what_was_delivered_and_drop_nothing():
    def test(path):
        client = FakeClient()
        box = Outbox(client, "d1", path)
        for i in range(7):
            box.add("s", i)
        for failure in (HTTPError(500, "oops"), HTTPError(503, "busy", retry_after=5), HTTPError(429, "slow"),
                        HTTPError(408, "late"), NetworkError("down", 111), m2x_micro.M2XError("odd")):
            client.failures = [None, failure]  # a window lands, the next one fails
            assert raises(type(failure), box.flush, 1) is failure
        assert box.pending() == 1 and Outbox(client, "d1", path).pending() == 1
        assert box.flush() == 1 and box.refused() == []
        assert [v for s, t, v in client.posted(every=True)] == [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]
        assert [v for s, t, v in client.posted()] == [0, 1, 2, 3, 4, 5, 6]
    in_dir(test)


def test_a_connection_lost_in_the_middle_of_the_body_loses_nothing():
    def test(path):
        client = FakeClient()
        box = Outbox(client, "d1", path)
        for i in range(300):
            box.add("s%d" % (i % 3), i)
        client.cut = NetworkError("reset", 104)
        raises(NetworkError, box.flush, 300)
        client.cut = None
        assert box.pending() == 300 and box.flush(300) == 300
        assert sorted(v for s, t, v in client.posted()) == list(range(300))
    in_dir(test)


def test_readings_before_the_clock_is_known_get_the_early_correction():
    def test(path):
        client = FakeClient(now=BOOT + 5000, known=False)
        box = Outbox(client, "d1", path)
        box.add("s", 1)
        box.add("s", 2, timestamp="2026-03-01T00:00:00Z")  # given by the caller: as it is
        assert read(path + "/q").split(b"\n")[1].split(b"\t")[1] == b"%d~" % (BOOT + 5001)
        assert box.flush() == 2 and client.syncs == 1
        assert client.posted() == [("s", iso(T0 + 5001), 1), ("s", "2026-03-01T00:00:00.000Z", 2)]
        box.add("s", 3)  # the clock is known now
        box.flush()
        assert client.syncs == 1 and client.posted()[-1][1] > iso(T0 + 5001)
    in_dir(test)


def test_stamps_of_every_length_second_and_mark_are_formatted_right():
    # An item's text up to the ms is made once a second and its ms are copied from the
    # stamp's last 3 digits: a stamp of fewer digits, another second, minute or day, and a
    # marked one that starts as the unmarked one before it are each made anew.
    def test(path):
        client = FakeClient(now=176722560011, known=False)
        client.correction = T0 - 176722560000
        box = Outbox(client, "d1", path)
        stamps = [0, 999, 1000, 59999, 60000, 86399999, T0 + 999, T0 + 1000, T0 + 60000, T0 + 123]
        for i, ms in enumerate(stamps):
            box.add("s", i, timestamp=iso(ms))
        box.add("s", "marked")  # 176722560012~: "s\t1767225600" and 3 characters, as T0 + 123
        assert read(path + "/q").split(b"\n")[-2].split(b"\t")[1] == b"176722560012~"
        assert box.flush() == len(stamps) + 1
        expected = [(iso(ms), "s", i) for i, ms in enumerate(stamps)] + [(iso(T0 + 12), "s", "marked")]
        expected.sort()
        assert client.posted() == [(name, stamp, value) for stamp, name, value in expected]
    in_dir(test)


def test_this_boots_early_readings_stay_datable_across_compactions_and_drops():
    def test(path):
        client = FakeClient()
        box = Outbox(client, "d1", path, max_bytes=2048)
        for i in range(30):
            box.add("s", i)  # an earlier boot, clock known
        box.flush(max_values=20, max_requests=1)
        client = FakeClient(now=BOOT + 5000, known=False)  # this boot: q does not start empty
        box = Outbox(client, "d1", path, max_bytes=2048)
        for i in range(100, 200):
            box.add("s", i)  # marked; q is compacted and the oldest dropped on the way
        assert box.dropped > 0 and box.pending() + box.dropped == 110
        kept = box.pending()
        assert box.flush() == kept and box.refused() == [] and client.syncs == 1
        posted = client.posted()
        assert [v for s, t, v in posted] == list(range(200 - len(posted), 200))
        assert posted[-1][1] == iso(T0 + 5100)  # BOOT + 5100, corrected
    in_dir(test)


def test_readings_of_an_earlier_boot_before_its_clock_was_set_are_set_aside():
    def test(path):
        client = FakeClient(now=BOOT + 5000, known=False)
        box = Outbox(client, "d1", path)
        box.add("s", 1)
        box.add("t", 2)
        client = FakeClient(now=BOOT + 9000, known=False)  # power cycle: the clock restarts
        box = Outbox(client, "d1", path)
        box.add("s", 3)
        assert box.pending() == 3
        assert box.flush() == 1 and client.syncs == 1
        assert client.posted() == [("s", iso(T0 + 9001), 3)]
        assert box.refused() == [("s", BOOT + 5001, 1, "taken before the clock was set"),
                                 ("t", BOOT + 5002, 2, "taken before the clock was set")]
    in_dir(test)


def test_a_clock_set_without_a_correction_leaves_early_readings_undatable():
    def test(path):
        client = FakeClient(now=BOOT + 5000, known=False)
        box = Outbox(client, "d1", path)
        box.add("s", 1)
        client.known = True  # NTP set the clock: no early_correction
        client.now = T0
        box.add("s", 2)
        assert box.flush() == 1 and client.syncs == 0
        assert client.posted() == [("s", iso(T0 + 1), 2)]
        assert box.refused() == [("s", BOOT + 5001, 1, "taken before the clock was set")]
    in_dir(test)


def test_a_failed_sync_raises_and_drops_nothing():
    def test(path):
        client = FakeClient(now=BOOT, known=False)

        def down(set_rtc=False):
            raise NetworkError("down", 113)
        client.sync_time = down
        box = Outbox(client, "d1", path)
        box.add("s", 1)
        raises(NetworkError, box.flush)
        assert box.pending() == 1 and client.calls == []
    in_dir(test)


class FatOs:
    """os as FAT behaves: rename onto an existing file fails; can lose power after a remove."""

    def __init__(self, cut_after_remove=False):
        self.cut = cut_after_remove

    def rename(self, src, dst):
        try:
            os.stat(dst)
        except OSError:
            return os.rename(src, dst)
        raise OSError(17, "EEXIST")

    def remove(self, path):
        os.remove(path)
        if self.cut and path.endswith("/q"):
            raise OSError(5, "power lost")

    def __getattr__(self, name):
        return getattr(os, name)


def test_on_fat_files_are_replaced_by_remove_then_rename_and_a_cut_replace_recovers():
    def test(path):
        client = FakeClient()
        saved = outbox_module.os
        outbox_module.os = FatOs()
        try:
            box = Outbox(client, "d1", path, max_bytes=2048)
            for i in range(80):
                box.add("s", i)
                if i % 20 == 19:
                    box.flush(max_values=15, max_requests=1)
            outbox_module.os = FatOs(cut_after_remove=True)
            for i in range(80, 200):
                try:
                    box.add("s", i)
                except OSError:
                    break  # power lost in the middle of a compaction
        finally:
            outbox_module.os = saved
        assert "q" not in os.listdir(path) and "q.tmp" in os.listdir(path)
        box = Outbox(client, "d1", path, max_bytes=2048)  # the next boot finishes the replace
        box.flush()
        posted = [v for s, t, v in client.posted()]
        assert posted[:60] == list(range(60)) and posted[60:] == list(range(60 + box.dropped, i))
    in_dir(test)


def test_the_crc_fallback_matches_binascii():
    from binascii import crc32
    for data in (b"", b"a", b"temperature\t1767225600000\t21.5", bytes(range(256))):
        assert outbox_module._crc32(data) == crc32(data)


class RAMBlocks:
    """A block device in RAM for MicroPython's own filesystems, as on a board's flash."""

    def __init__(self, count):
        self.data = bytearray(512 * count)

    def readblocks(self, number, buf, offset=0):
        at = number * 512 + offset
        buf[:] = self.data[at : at + len(buf)]

    def writeblocks(self, number, buf, offset=0):
        at = number * 512 + (offset or 0)
        self.data[at : at + len(buf)] = buf

    def ioctl(self, op, arg):
        if op == 4:  # block count
            return len(self.data) // 512
        if op == 5:  # block size
            return 512
        return 0  # sync, erase: nothing to do in RAM


def test_on_fat_and_littlefs_as_on_a_board():
    if not hasattr(os, "VfsFat"):
        return  # CPython: the filesystems are MicroPython's
    for filesystem in (os.VfsFat, os.VfsLfs2):
        blocks = RAMBlocks(128)
        filesystem.mkfs(blocks)
        os.mount(filesystem(blocks), "/board")
        try:
            client = FakeClient()
            box = Outbox(client, "d1", "/board/outbox", max_bytes=2048)
            for i in range(100):
                box.add("s", i)
                if i % 20 == 19:
                    box.flush(max_values=15, max_requests=1)  # the head passes half: compactions
                assert os.stat("/board/outbox/q")[6] <= 2048
            box = Outbox(client, "d1", "/board/outbox", max_bytes=2048)
            assert box.pending() == 25 and box.flush() == 25 and box.dropped == 0
            assert [v for s, t, v in client.posted()] == list(range(100))
            assert sorted(os.listdir("/board/outbox")) == ["head"]
        finally:
            os.umount("/board")
