# m2x_micro.outbox: readings kept on flash until the server has them (store and forward).
# An add-on: it uses the core's public API only, and the core never imports it.
#
#   box = Outbox(client, device_id, "/outbox")   # one Outbox per boot
#   box.add("temperature", 21.5)                 # stamped now; on flash when it returns
#   box.flush()                                  # when the network is up; raises on failure
#
# Files in the directory (made when missing; its parent must exist):
#   q        the queue: a header line ("outbox", the file's generation), then a line per
#            reading, appended
#   head     how far q is delivered: q's generation, the offset, the dropped count;
#            replaced whole (written to head.tmp, renamed over head; where rename onto a
#            file fails, as on some FAT drivers, head is removed first)
#   refused  readings set aside, with the reason; at most max_bytes // 8 (more count as
#            dropped). A power cut between setting one aside and moving the head past it
#            lists it twice.
# A line is its fields joined by tabs, a tab, the low 24 bits of the CRC-32 of the fields
# in 6 hex digits, and "\n". A reading's fields: the stream name (UTF-8, no control
# characters, at most 128 bytes), the stamp (Unix ms in decimal; "~" after it when the
# board's clock was not known) and the value as JSON: "temperature\t1767225600000\t21.5\t
# c1dcec\n", 38 bytes. A reading costs len(stream) + len(value as JSON) + 23 bytes of flash
# (+1 for "~"), at most 400.
#
# Power loss: a reading is on flash when add() returns (flushed, fsync'ed where os has it).
# A line without its checksum or its "\n" was torn while written: it is skipped, never
# posted, and the next append starts after "!\n", so it never continues a torn line. After
# a 2xx the head moves past the window (not synced: a head lost or torn by a power cut,
# like one naming another generation of q, means "send q from its start"); a cut before
# that sends the same readings with the same stamps again, which the server keeps once.
# When all is delivered q is removed, which is then the commit (the head is not written
# unless dropped changed: it names an older q); once the head passes max_bytes / 2, q's rest is
# copied to q.tmp, the next generation, which replaces q (a q.tmp found without q is one
# whose replace was cut short: it becomes q). max_bytes bounds q: when the undelivered
# readings fill it, the oldest go, an eighth of max_bytes at once so that not every add()
# pays a copy; the copy needs room for the undelivered part once more.
#
# flush() reads a window of readings twice: once for the Content-Length and the stream
# names, then once per stream, to stream its values in chunks of about 256 bytes. The
# heap does not grow with the window (6 KB for 1,000 readings on the 64-bit unix port).
# The first pass checks the checksums of the lines this Outbox did not append whole
# itself (those of q when it was opened, and what a failed append left); garbage after a
# reading ends the window, so the second pass meets none and checks nothing.
#
# Refusals: a window the server refuses (400, 409, 413, 422) is halved until the refused
# reading is alone, then it is set aside and the window grows back, doubling. 401, 403
# and 404 (for /updates: no such device, which no reading causes), 408, 429, 5xx, network
# and other errors stop flush() and are raised; what was delivered before is committed.
#
# Readings taken while the clock is not known (client.clock_known() false when add()
# stamps one itself) are marked "~": their stamps count from the board's power-up epoch.
# flush() then syncs the client's clock first (once); a marked reading added since this
# Outbox was made (q's size then marks the boot, so no boot counter is kept) gets
# client.early_correction added. A marked reading of an earlier boot, or one when the
# clock became known without that correction (NTP), cannot be dated: it goes to refused()
# with the reason below and the board's own stamp, never out with one of the year 2000.
import json
import os

import m2x_micro

try:
    from binascii import crc32 as _crc
except ImportError:  # left out of ESP8266 builds
    _crc = None


def _crc32(data):
    # binascii.crc32, computed here where a build lacks it: slow, but the same files.
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


_crc = _crc or _crc32
# Bytes read from flash, and sent, at a time: small pieces fit a fragmented heap (at 512,
# the device loop of make bench runs out of its 64 KiB: no room for a 513-byte read or a
# chunk grown to 451 bytes).
_BLOCK = 256
_LINE = 400  # a reading's line at most (a chunk holding one is longer than a block)
_HEADER = 64  # a header or head line at most
_REFUSED = (400, 409, 413, 422)  # the server will never take what it refused so
_UNDATED = "taken before the clock was set"


def _line(fields):
    body = b"\t".join(fields)
    return body + b"\t%06x\n" % (_crc(body) & 0xFFFFFF)


def _sound(line):
    # Whether a line is whole: its "\n" is there and its checksum right.
    try:
        return line[-1] == 10 and line[-8] == 9 and int(line[-7:-1], 16) == _crc(line[:-8]) & 0xFFFFFF
    except (IndexError, ValueError):  # too short; no hex where the checksum goes
        return False


def _fields(line):
    return line[:-8].split(b"\t") if _sound(line) else None


def _reading(line):
    # For the sound line of a reading (stream, stamp, value), the index of the tab after
    # its stamp; else 0 (garbage, or q's header).
    return _stamp_end(line) if _sound(line) else 0


def _stamp_end(line):
    # _reading() of a line known to be whole: its checksum is not checked again.
    tab = line.find(b"\t")
    stamp_end = line.find(b"\t", tab + 1)
    return stamp_end if 0 < tab < stamp_end < len(line) - 8 else 0


def _sync(f):
    f.flush()  # MicroPython: down to the filesystem
    if hasattr(os, "fsync"):  # CPython: down to the disk
        os.fsync(f.fileno())


def _size(path):
    try:
        return os.stat(path)[6]
    except OSError:
        return -1


def _rename(src, dst):
    try:
        os.rename(src, dst)
    except OSError:  # FAT renames onto no existing file
        os.remove(dst)
        os.rename(src, dst)


class _Cork:
    """While flush() runs, the socket module of the board's requests, which connects
    through its module's global `socket`: it keeps the socket requests makes, so that the
    body's last piece goes out at once. requests writes the head and each piece apart;
    Nagle's algorithm holds a small write while an earlier one awaits its ACK, and servers
    delay ACKs (40 ms on Linux). TCP_NODELAY, set before the last piece, sends what is
    held: the pieces still travel as few packets, and the last does not wait (make bench:
    1 flush of 1,000 readings in 5 waited 40 ms without it)."""

    def __init__(self, module):
        self.module = module
        self.getaddrinfo = module.getaddrinfo
        self.SOCK_STREAM = module.SOCK_STREAM
        self.made = None

    def socket(self, *args):
        self.made = self.module.socket(*args)
        return self.made


class Outbox:
    """Readings kept in directory until the server of device_id has them (see above)."""

    def __init__(self, client, device_id, directory, max_bytes=65536):
        if max_bytes < 1024:
            raise ValueError("max_bytes must be at least 1024")
        self.client = client
        self._updates = m2x_micro.Device(client, {"id": device_id}).path + "/updates"
        self.max_bytes = max_bytes
        if _size(directory) < 0:
            os.mkdir(directory)
        self._dir = directory.rstrip("/") + "/"
        q = self._dir + "q"
        if _size(q + ".tmp") >= 0:
            if _size(q) < 0:
                os.rename(q + ".tmp", q)  # a FAT replace cut short after its remove: finish it
            else:
                os.remove(q + ".tmp")  # a copy cut short
        header = self._first("q")
        if not (header and len(header) == 2) and _size(q) > 0:
            os.remove(q)  # a torn header: q's first write (its header and a reading) was cut
        self._size = max(_size(q), 0)
        state = self._first("head") or self._first("head.tmp")
        state = [int(n) for n in state] if state and len(state) == 3 else [-1, 0, 0]
        self.dropped = self._dropped_saved = state[2]
        self.set_aside = 0  # readings put in refused() by this Outbox
        self._limit = 0  # the window of a flush halving around a refused reading, else 0
        if header and len(header) == 2:
            self._gen = int(header[1])
            start = len(_line(header))
        else:  # no q yet (the next one differs from head's), or q's header was torn
            self._gen = state[0] + 1
            start = 0
        self._head = state[1] if state[0] == self._gen and start <= state[1] <= self._size else start
        self._boot = self._size  # readings from here on were added since this boot
        self._trusted = self._size  # q's lines from here on were appended whole by this Outbox
        self._pending = 0
        self._torn = False
        if self._head < self._size:
            for line in self._lines("q", self._head, self._size):
                self._pending += _reading(line) > 0
                self._torn = line[-1] != 10

    def _first(self, name):
        # The fields of a file's first line; None when it is missing or torn.
        try:
            with open(self._dir + name, "rb") as f:
                data = f.read(_HEADER)
        except OSError:
            return None
        return _fields(data[: data.find(b"\n") + 1])

    def _lines(self, name, start, end):
        # The lines of a file between offsets start and end, read a block at a time. A
        # last line may lack its "\n"; one longer than _LINE comes in pieces (no reading
        # is that long, so they are skipped as garbage). Callers add up the lengths. The
        # file stays open while the lines are read: a caller that stops early close()s
        # the generator, as MicroPython does not when it is dropped.
        with open(self._dir + name, "rb") as f:
            f.seek(start)
            data = b""  # the file's bytes from offset start
            while True:
                block = f.read(min(_BLOCK, end - start - len(data)))
                data += block
                i = 0
                j = data.find(b"\n")
                while j >= 0:
                    yield data[i : j + 1]
                    i = j + 1
                    j = data.find(b"\n", i)
                if not block or len(data) - i >= _LINE:  # no reading is that long: garbage
                    if i < len(data):
                        yield data[i:]
                    i = len(data)
                start += i
                data = data[i:]
                if not block:
                    return

    def pending(self):
        """Readings queued."""
        return self._pending

    def add(self, stream, value, timestamp=None):
        """Queue a reading; returns once it is on flash. Its stamp is fixed now: timestamp
        (what m2x_micro.to_unix_ms takes), else the client's stamp_ms()."""
        if not isinstance(stream, str):
            raise TypeError("stream must be a str")
        if not stream or min(stream) < " " or len(stream.encode()) > 128:
            raise ValueError("stream must be 1 to 128 bytes without control characters")
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise TypeError("value must be a number or a str, not %r" % (value,))
        if isinstance(value, float) and value - value != 0:
            raise ValueError("value must be finite")
        if timestamp is None:
            mark = b"" if self.client.clock_known() else b"~"
            ms = self.client.stamp_ms()
        else:
            mark, ms = b"", m2x_micro.to_unix_ms(timestamp)
        if not 0 <= ms < 253402300800000:  # 1970 to 9999: its ISO form is 24 characters
            raise ValueError("timestamp out of range")
        line = _line((stream.encode(), b"%d" % ms + mark, json.dumps(value).encode()))
        if len(line) > _LINE:
            raise ValueError("reading over %d bytes" % _LINE)
        self._make_room(len(line) + 2)
        self._append(line)
        self._pending += 1

    def _append(self, line):
        if self._torn:
            line = b"!\n" + line  # ends the torn line; never continues it
        header = b""
        if not self._size:
            header = _line((b"outbox", b"%d" % self._gen))
            line = header + line
        try:
            with open(self._dir + "q", "ab") as f:
                f.write(line)
                _sync(f)
        except OSError:  # part may be written: the next line starts after "!\n"
            self._torn = True
            self._size = self._trusted = max(_size(self._dir + "q"), 0)  # what it left is checked
            raise
        self._torn = False
        if header:  # the head past it, as when q is opened again: no window holds the header
            self._head = len(header)
        self._size += len(line)

    def _make_room(self, n):
        # Keep q within max_bytes: compact away what is delivered and, when the undelivered
        # readings alone fill it, drop the oldest, an eighth of max_bytes more than needed
        # so that the copy compaction makes is not paid by every add().
        if self._size + n <= self.max_bytes:
            return
        over = self._size - self._head + n + _HEADER - self.max_bytes
        if over > 0:
            count = 0
            stop = self._head
            lines = self._lines("q", self._head, self._size)
            try:
                for line in lines:
                    if stop - self._head >= over + self.max_bytes // 8:
                        break
                    stop += len(line)
                    count += _reading(line) > 0
            finally:
                lines.close()
            self.dropped += count
            self._commit(stop, count)
        if self._size + n > self.max_bytes:
            self._compact()

    def _commit(self, head, count):
        # Persist the head (and dropped), then free the flash behind it. When all is
        # delivered and dropped has not changed, removing q is the commit, one flash write
        # less: a head naming an older q means "send q from its start".
        if head < self._size or self.dropped != self._dropped_saved:
            self._save(head)
        else:
            self._head = head  # not on flash: q's removal below says it
        self._pending -= count
        if head >= self._size:  # all delivered: the next add starts a new q
            os.remove(self._dir + "q")
            self._gen += 1
            self._size = self._head = self._boot = self._trusted = 0
            self._torn = False
        elif head > self.max_bytes // 2:
            self._compact()

    def _save(self, head):
        # Not synced: a head lost to a power cut only sends readings again, and one cut
        # short fails its checksum, which means the same.
        name = self._dir + "head"
        with open(name + ".tmp", "wb") as f:
            f.write(_line((b"%d" % self._gen, b"%d" % head, b"%d" % self.dropped)))
        _rename(name + ".tmp", name)
        self._head = head
        self._dropped_saved = self.dropped

    def _compact(self):
        # Copy the undelivered part of q to the next generation, a block at a time.
        q = self._dir + "q"
        header = _line((b"outbox", b"%d" % (self._gen + 1)))
        with open(q + ".tmp", "wb") as out:
            out.write(header)
            with open(q, "rb") as f:
                f.seek(self._head)
                block = f.read(_BLOCK)
                while block:
                    out.write(block)
                    block = f.read(_BLOCK)
            _sync(out)
        _rename(q + ".tmp", q)
        self._gen += 1
        moved = self._head - len(header)
        self._size -= moved
        self._boot = max(self._boot - moved, len(header))
        self._trusted = max(self._trusted - moved, len(header))
        self._save(len(header))

    def _date(self, stamp, start):
        # Unix ms of a reading's stamp field (the reading at offset start of q); None when
        # it was made by a clock not yet known and cannot be dated.
        if stamp[-1] != 126:  # "~"
            return int(stamp)
        early = self.client.early_correction
        if start >= self._boot and early is not None:
            return int(stamp[:-1]) + early
        return None

    def flush(self, max_values=100, max_requests=None):
        """Send the queued readings, at most max_values a request (and max_requests
        requests); returns how many the server took. A reading the server refuses
        (400, 409, 413, 422) is found by halving the window and set aside in refused();
        any other error is raised once what was delivered is committed, and drops nothing."""
        if max_values < 1:
            raise ValueError("max_values must be at least 1")
        if self._pending and not self.client.clock_known():
            self.client.sync_time()  # dates the readings of this boot stamped before
        # The board's requests, if loaded: a client with another transport never calls it.
        # The urequests alias of micropython-lib loads requests when first asked for a name.
        modules = __import__("sys").modules
        getattr(modules.get("urequests"), "request", None)
        requests = modules.get("requests")
        sockets = getattr(requests, "socket", None)
        cork = _Cork(sockets) if hasattr(sockets, "getaddrinfo") else None
        if cork:
            requests.socket = cork
        try:
            return self._send(max_values, max_requests, cork)
        finally:
            if cork:
                requests.socket = sockets

    def _send(self, max_values, max_requests, cork):
        sent = requests = 0
        # A window halved around a refused reading stays halved into the next call, so
        # that a call cut short by max_requests still gets nearer to setting it aside.
        limit = min(self._limit or max_values, max_values)
        while self._head < self._size and requests != max_requests:
            end, count, streams, length, first = self._window(limit)
            if not count:  # garbage only, or a reading that cannot be dated
                if first:
                    self._set_aside(first, _UNDATED)
                    self.set_aside += 1
                self._commit(end, first is not None)
                continue
            requests += 1
            body = self._body(streams, cork)
            try:
                self.client.request("POST", self._updates, data=body, length=length)
            except m2x_micro.HTTPError as e:
                if e.status not in _REFUSED:
                    raise
                if count > 1:
                    limit = self._limit = count // 2  # the refused reading is in one half: try the first
                    continue
                self._set_aside(first, str(e) + (" " + json.dumps(e.errors) if e.errors else ""))
                self.set_aside += 1
            else:
                sent += count
                limit = min(2 * limit, max_values)
                self._limit = 0 if limit == max_values else limit
            finally:
                body.close()  # its file, if the request stopped reading it
            self._commit(end, count)
        return sent

    def _window(self, limit):
        # One pass over the next readings, at most limit of them, up to one that cannot be
        # dated or garbage after a reading: (end offset, count, {stream: [JSON name, first
        # offset, end offset]}, Content-Length, (line, offset) of the first reading).
        # Garbage before the first reading goes with it.
        streams = {}
        count = 0
        length = 13  # {"values":{}}
        first = None
        prefix = b"\t"  # the stream of the reading before, and a tab
        stop = end = self._head
        trusted = self._trusted
        lines = self._lines("q", self._head, self._size)
        try:
            for line in lines:
                start = stop
                stop += len(line)
                stamp_end = _stamp_end(line) if start >= trusted else _reading(line)
                if not stamp_end:
                    if count:  # the next window's: _body() meets no garbage
                        break
                    end = stop
                    continue
                if line[stamp_end - 1] == 126 and self._date(line[line.find(b"\t") + 1 : stamp_end], start) is None:
                    if not count:  # alone: to be set aside
                        first, end = (line, start), stop
                    break
                if count == limit:
                    break
                first = first or (line, start)
                count += 1
                if not line.startswith(prefix):  # another stream than the reading before
                    prefix = line[: line.find(b"\t") + 1]
                    entry = streams.get(prefix[:-1])
                    if not entry:
                        key = json.dumps(prefix[:-1].decode()).encode()
                        streams[prefix[:-1]] = entry = [key, start, 0]
                        length += len(key) + 2 + (len(streams) > 1)  # ,"name":[ ] less the last comma
                entry[2] = stop
                length += len(line) - stamp_end + 41  # {"timestamp":"<24>","value":<value>},
                end = stop
        finally:
            lines.close()
        return end, count, streams, length, first

    def _body(self, streams, cork):
        # The window's post_updates JSON in pieces of about _BLOCK bytes (one long reading
        # may overrun it), all made in one buffer (emptied once sent, it keeps its room): per
        # stream, its readings read again from q (sound, and a stamp marked "~" datable:
        # see _window). An item's text up to the ms is made once a second (the date once a
        # minute); the rest is the line's, whose stamp ends in its ms (a marked stamp's
        # line, corrected, is made so first).
        buf = bytearray(_BLOCK)
        buf[:] = b'{"values":{'
        early = self.client.early_correction
        minute = None
        comma = b""
        for name in streams:
            key, start, end = streams[name]
            if len(buf) + len(key) + 4 > _BLOCK:
                yield buf
                buf[:] = b""
            buf += comma + key + b":["
            prefix = name + b"\t"
            at = len(prefix)
            second = b"\n"  # the line before up to its ms (none yet: no line starts so)
            ms_at = 0  # where its ms begin
            item = b""  # none yet in the array: the first goes without "},"
            lines = self._lines("q", start, end)
            try:
                for line in lines:
                    # Of that second: the same start, as long a stamp, not marked "~".
                    if line.startswith(second) and line[ms_at + 3] == 9 and line[ms_at + 2] != 126:
                        item = head
                    else:
                        if not line.startswith(prefix):
                            continue  # another stream's
                        tab = line.find(b"\t", at)
                        text = line[at:tab]
                        marked = text[-1] == 126
                        ms = int(text[:-1]) + early if marked else int(text)
                        if marked or tab - at < 4:  # no digits of its own for its ms: made so
                            second, ms_at = b"\n", at
                            line = prefix + b"%03d" % (ms % 1000) + line[tab:]
                        else:
                            second, ms_at = line[: tab - 3], tab - 3
                        if ms // 60000 != minute:
                            minute = ms // 60000
                            stamp = b'},{"timestamp":"' + m2x_micro.format_iso8601(ms)[:17].encode()  # ...THH:MM:
                        head = stamp + b"%02d." % (ms // 1000 % 60)
                        item = head if item else head[2:]
                    if len(buf) + len(line) - ms_at + 42 > _BLOCK:  # the item, "}]" and "}}" fit
                        yield buf
                        buf[:] = b""
                    buf += item
                    buf += line[ms_at:-8].replace(b"\t", b'Z","value":')
            finally:  # closed early when the request stops reading (see _lines)
                lines.close()
            buf += b"}]"
            comma = b","
        buf += b"}}"
        if cork and cork.made:
            sockets = cork.module  # the unix port names neither constant
            try:
                cork.made.setsockopt(getattr(sockets, "IPPROTO_TCP", 6), getattr(sockets, "TCP_NODELAY", 1), 1)
            except OSError:
                pass
        yield buf

    def _set_aside(self, first, reason):
        # A reading (line, offset) to refused, with its Unix ms (the board's for one that
        # cannot be dated), after a "\n" so that a torn line before cannot swallow it. Past
        # max_bytes // 8 of refused, it counts as dropped.
        name = self._dir + "refused"
        if _size(name) >= self.max_bytes // 8:
            self.dropped += 1
            return
        fields = _fields(first[0])
        ms = self._date(fields[1], first[1])
        if ms is None:
            ms = int(fields[1][:-1])
        with open(name, "ab") as f:
            f.write(b"\n" + _line((fields[0], b"%d" % ms, fields[2], json.dumps(reason).encode())))
            _sync(f)

    def refused(self):
        """[(stream, unix_ms, value, reason), ...] of the readings set aside."""
        out = []
        size = _size(self._dir + "refused")
        if size > 0:
            for line in self._lines("refused", 0, size):
                fields = _fields(line)
                if fields and len(fields) == 4:
                    out.append((fields[0].decode(), int(fields[1]), json.loads(fields[2]), json.loads(fields[3])))
        return out

    def clear_refused(self):
        """Forget the readings set aside."""
        if _size(self._dir + "refused") >= 0:
            os.remove(self._dir + "refused")
