# The keep-alive transport (m2x_micro.transport) against scripted sockets: what it sends,
# how it reads answers (Content-Length, chunked, until close), when it keeps, reopens and
# closes a connection, which requests it sends again, and how it names TLS refusals.
# Real servers, TLS and deadlines are in tests/test_transport_e2e.py and test_faults.py.
import m2x_micro
from checks import raises
from m2x_micro import transport

KEY = "0123456789abcdef0123456789abcdef"


class ScriptedSocket:
    """A connection whose peer answers with the given byte pieces, one per recv, then
    closes (recv gives b""). idle_closed: the peer closed it while it sat idle."""

    def __init__(self, pieces):
        self.pieces = list(pieces)
        self.sent = b""
        self.writes = 0
        self.closed = False
        self.idle_closed = False
        self.address = None

    def connect(self, address):
        self.address = address

    def setsockopt(self, *args):
        pass

    def settimeout(self, seconds):
        assert 0 < seconds <= 10, seconds

    def sendall(self, data):
        if self.idle_closed:
            raise OSError(104, "ECONNRESET")
        self.sent += bytes(data)
        self.writes += 1

    def recv(self, n):
        if self.idle_closed or not self.pieces:
            return b""
        piece = self.pieces.pop(0)
        if len(piece) > n:
            self.pieces.insert(0, piece[n:])
            piece = piece[:n]
        return piece

    def close(self):
        self.closed = True


class Network:
    """Stands in for the transport's socket module and poll: each connection opened takes
    the next ScriptedSocket."""

    SOCK_STREAM = 1

    def __init__(self, *sockets):
        self.sockets = list(sockets)
        self.opened = []

    def getaddrinfo(self, host, port, family=0, kind=0):
        return [(2, 1, 0, "", (host, port))]

    def socket(self, family, kind, proto):
        self.opened.append(self.sockets.pop(0))
        return self.opened[-1]


class Poll:
    def register(self, sock, events):
        self.sock = sock

    def poll(self, timeout):
        return [(self.sock, 1)] if self.sock.idle_closed else []


def on_network(network, fn):
    saved = transport.socket, transport.poll
    transport.socket, transport.poll = network, Poll
    try:
        return fn()
    finally:
        transport.socket, transport.poll = saved


def answer(status=200, body=b'{"ok":1}', headers=""):
    return b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s" % (
        status, len(body), headers.encode(), body)


def client_over(http, url="http://m2x.test:8080"):
    return m2x_micro.M2XClient(KEY, url, transport=http)


def test_a_small_request_goes_out_in_one_write_with_host_and_length():
    sock = ScriptedSocket([answer(202, b'{"status":"accepted"}')])
    http = transport.Transport()
    client = client_over(http)
    device = m2x_micro.Device(client, {"id": "d1"})
    on_network(Network(sock), lambda: device.post_update(values={"t": 1}, timestamp="2026-01-02T03:04:05.000Z"))
    body = b'{"values":{"t":1},"timestamp":"2026-01-02T03:04:05.000Z"}'
    head, sent_body = sock.sent.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /v2/devices/d1/update HTTP/1.1"
    assert b"Host: m2x.test:8080" in lines
    assert b"X-M2X-KEY: " + KEY.encode() in lines
    assert b"Content-Length: %d" % len(sent_body) in lines
    assert sorted(sent_body) == sorted(body)  # the same JSON, whatever the key order
    assert sock.writes == 1 and sock.address == ("m2x.test", 8080)


def test_answers_read_in_full_keep_one_connection_for_every_request():
    sock = ScriptedSocket([answer(body=b'{"n":%d}' % i) for i in range(5)])
    http = transport.Transport()
    client = client_over(http)
    got = on_network(Network(sock), lambda: [client.status()["n"] for _ in range(5)])
    assert got == [0, 1, 2, 3, 4]
    assert http.opened == 1 and not sock.closed
    assert sock.sent.count(b"GET /v2/status HTTP/1.1") == 5
    http.close()
    assert sock.closed


def test_an_answer_in_pieces_and_chunks_is_put_together_and_the_connection_kept():
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=1\r\n{\"a\"\r\n5\r\n:[1]}\r\n0\r\nT: 1\r\n\r\n"
    pieces = [chunked[i : i + 3] for i in range(0, len(chunked), 3)] + [answer()]
    sock = ScriptedSocket(pieces)
    http = transport.Transport()
    client = client_over(http)
    assert on_network(Network(sock), client.status) == {"a": [1]}
    assert on_network(Network(), client.status) == {"ok": 1}  # the same connection: no new socket
    assert http.opened == 1


def test_a_connection_the_server_ends_is_not_kept():
    for ending in (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}",
                   b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}",
                   b"HTTP/1.1 200 OK\r\n\r\n{}"):  # no length: the body runs until the server closes
        first, second = ScriptedSocket([ending]), ScriptedSocket([answer()])
        http = transport.Transport()
        client = client_over(http)
        network = Network(first, second)
        assert on_network(network, client.status) == {}
        assert first.closed
        assert on_network(network, client.status) == {"ok": 1}
        assert http.opened == 2


def test_an_answer_not_read_to_its_end_closes_the_connection():
    big = b'{"x":"' + b"y" * 5000 + b'"}'
    first, second = ScriptedSocket([answer(body=big)]), ScriptedSocket([answer()])
    http = transport.Transport()
    client = m2x_micro.M2XClient(KEY, "http://m2x.test", transport=http, max_body=1024)
    network = Network(first, second)
    raises(m2x_micro.M2XError, on_network, network, client.status)
    assert first.closed  # the rest of that answer must not be read as the next one
    assert on_network(network, client.status) == {"ok": 1}


def test_head_and_204_answers_have_no_body_whatever_their_headers_say():
    sock = ScriptedSocket([b"HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", answer()])
    http = transport.Transport()
    client = client_over(http)
    stream = m2x_micro.Stream(client, {"name": "t"}, "/devices/d1/streams")
    assert on_network(Network(sock), lambda: stream.update(unit={"label": "C"})) is stream
    assert on_network(Network(), client.status) == {"ok": 1}


def test_an_idle_connection_the_server_closed_is_reopened_unnoticed():
    first, second = ScriptedSocket([answer(body=b"1")]), ScriptedSocket([answer(body=b"2")])
    http = transport.Transport()
    client = client_over(http)
    network = Network(first, second)
    assert on_network(network, client.status) == 1
    first.idle_closed = True
    # A POST that is not safe to repeat: it goes on the new connection, sent once.
    sent = on_network(network, lambda: client.request("POST", "/commands", body={"name": "x"}))
    assert sent == 2
    assert first.sent.count(b"POST") == 0 and second.sent.count(b"POST /v2/commands") == 1


def stale_then(fresh_answer, method, path, body=None):
    # A kept connection that turns out dead when the request is sent on it (the server
    # closed it as the request left): what happens to the request?
    first, second = ScriptedSocket([answer()]), ScriptedSocket([fresh_answer])
    http = transport.Transport()
    client = client_over(http)
    network = Network(first, second)
    on_network(network, client.status)
    first.pieces = []  # the server's close arrives only after the request went out

    def send():
        return client.request(method, path, body=body)
    try:
        return on_network(network, send), http.opened, second.sent
    except m2x_micro.NetworkError as e:
        return e, http.opened, second.sent


def test_a_request_safe_to_repeat_is_sent_again_once_on_a_new_connection():
    values = {"values": {"t": [{"timestamp": "2026-01-02T03:04:05.000Z", "value": 1}]}}
    for method, path, body in (("GET", "/status", None), ("PUT", "/devices/d1/streams/t/value", {"value": 1}),
                               ("POST", "/devices/d1/updates", values), ("DELETE", "/devices/d1", None)):
        result, opened, sent = stale_then(answer(body=b"7"), method, path, body)
        assert result == 7 and opened == 2, (method, path, result)
        assert sent.startswith(method.encode() + b" /v2" + path.encode())


def test_a_request_that_could_repeat_an_effect_is_never_sent_twice():
    for path in ("/commands", "/devices", "/keys/k1/regenerate"):
        result, opened, sent = stale_then(answer(body=b"7"), "POST", path, {"name": "x"})
        assert isinstance(result, m2x_micro.NetworkError) and result.errno == 104, (path, result)
        assert opened == 1 and sent == b""


def test_a_failure_after_the_answer_began_is_not_sent_again():
    first, second = ScriptedSocket([answer(), b"HTTP/1.1 200 OK\r\nContent-Le"]), ScriptedSocket([answer()])
    http = transport.Transport()
    client = client_over(http)
    network = Network(first, second)
    on_network(network, client.status)
    raises(m2x_micro.NetworkError, on_network, network, client.status)
    assert http.opened == 1 and first.closed


def test_a_streamed_body_must_match_its_length():
    def chunks():
        yield b"{}"
        yield b"  "
    for length in (3, 5):
        sock = ScriptedSocket([answer()])
        client = client_over(transport.Transport())
        e = raises(m2x_micro.NetworkError, on_network, Network(sock),
                   lambda: client.request("POST", "/devices/d1/updates", data=chunks(), length=length))
        assert "Content-Length" in str(e) and sock.closed
    sock = ScriptedSocket([answer()])
    assert on_network(Network(sock), lambda: client_over(transport.Transport()).request(
        "POST", "/devices/d1/updates", data=chunks(), length=4)) == {"ok": 1}
    assert sock.sent.endswith(b"\r\n\r\n{}  ")


def test_an_answer_head_is_read_only_to_a_bound():
    flood = b"HTTP/1.1 200 OK\r\n" + b"X-Junk: " + b"j" * 8000 + b"\r\n\r\n{}"
    sock = ScriptedSocket([flood[i : i + 512] for i in range(0, len(flood), 512)])
    e = raises(m2x_micro.NetworkError, on_network, Network(sock), client_over(transport.Transport()).status)
    assert "4096" in str(e) and sock.closed
    assert len(sock.pieces) >= 6  # it stopped reading soon after the bound


def test_what_is_not_http_is_a_network_error():
    for reply in (b"SSH-2.0-OpenSSH_9.2\r\n", b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", b"HTTP/1.1 abc OK\r\n\r\n"):
        sock = ScriptedSocket([reply])
        raises(m2x_micro.NetworkError, on_network, Network(sock), client_over(transport.Transport()).status)
        assert sock.closed


def test_https_needs_a_ca_unless_told_insecure():
    sock = ScriptedSocket([])
    e = raises(m2x_micro.NetworkError, on_network, Network(sock),
               client_over(transport.Transport(), "https://m2x.test").status)
    assert "ca=" in str(e) and sock.closed


def test_the_tls_librarys_refusals_are_named():
    cases = [
        ("\nThe certificate Common Name (CN) does not match with the expected CN\n", "wrong host name"),
        ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, certificate is not "
         "valid for 'x'. (_ssl.c:1006)", "wrong host name"),
        ("The certificate validity has expired", "expired certificate"),
        ("certificate verify failed: certificate has expired (_ssl.c:1006)", "expired certificate"),
        ("The certificate validity starts in the future", "certificate not yet valid"),
        ("certificate verify failed: certificate is not yet valid (_ssl.c:1006)", "certificate not yet valid"),
        ("The certificate is not correctly signed by the trusted CA", "unknown CA"),
        ("certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)", "unknown CA"),
        ("certificate verify failed: self-signed certificate in certificate chain", "unknown CA"),
        ("The certificate Common Name (CN) does not match with the expected CN\n"
         "The certificate is not correctly signed by the trusted CA", "wrong host name and unknown CA"),
        ("MBEDTLS_ERR_SSL_INVALID_RECORD", None),
        ("[Errno 104] ECONNRESET", None),
    ]
    for text, verdict in cases:
        assert transport._verdict(ValueError(text)) == verdict, (text, transport._verdict(ValueError(text)))


def test_the_http_date_becomes_rtc_fields():
    # (year, month, day, weekday with Monday 0, hour, minute, second, subseconds)
    assert transport._rtc_fields("Wed, 02 Dec 2026 07:02:47 GMT") == (2026, 12, 2, 2, 7, 2, 47, 0)
    assert transport._rtc_fields("Sun, 29 Feb 2032 23:59:59 GMT") == (2032, 2, 29, 6, 23, 59, 59, 0)
    raises(ValueError, transport._rtc_fields, "yesterday")


def test_a_ca_in_pem_is_read_as_der():
    der = bytes(range(256)) * 3
    from binascii import b2a_base64
    text = b2a_base64(der).strip()
    pem = b"-----BEGIN CERTIFICATE-----\n"
    for i in range(0, len(text), 64):
        pem += text[i : i + 64] + b"\n"
    pem += b"-----END CERTIFICATE-----\n"
    assert transport._der(pem) == der
    assert transport._der(der) is der


def test_close_and_with_end_the_connection():
    sock = ScriptedSocket([answer()])
    with transport.Transport() as http:
        on_network(Network(sock), client_over(http).status)
        assert not sock.closed
    assert sock.closed


# --- A board's first https connection after power-up, its clock in 2000 ------------------

class FakeTLS:
    """Stands in for MicroPython's tls: each handshake follows the next script step, a pair
    (the server's certificate, what the date check says). A certificate whose dates the
    board's clock does not reach is refused under CERT_REQUIRED, as mbedtls does, and let
    through under CERT_OPTIONAL; the verify callback sees it either way."""

    CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED = 0, 1, 2
    PROTOCOL_TLS_CLIENT = 0
    MBEDTLS_VERSION = "fake"

    def __init__(self, *steps):
        self.steps = list(steps)
        self.modes = []

    def SSLContext(self, protocol):
        return FakeContext(self)


class FakeContext:
    def __init__(self, tls):
        self.tls = tls
        self.verify_mode = tls.CERT_NONE
        self.verify_callback = None

    def load_verify_locations(self, ca):
        assert isinstance(ca, bytes)

    def wrap_socket(self, sock, server_hostname=None):
        leaf, problem = self.tls.steps.pop(0)
        self.tls.modes.append(self.verify_mode)
        self.verify_callback(memoryview(leaf), 0)
        if problem and self.verify_mode == FakeTLS.CERT_REQUIRED:
            raise ValueError(problem)
        return sock


class BoardClock:
    """time for the transport, and machine for the RTC: 2000 until the RTC is set."""

    def __init__(self):
        self.rtc_set_to = None

    def gmtime(self, secs=None):
        return self.rtc_set_to or (2000, 1, 1, 0, 0, 42, 5, 1)

    def RTC(self):
        return self

    def datetime(self, fields):
        self.rtc_set_to = fields


def first_connection(tls, *sockets):
    import sys
    board = BoardClock()
    saved = transport.tls, transport.time, sys.modules.get("machine")
    transport.tls, transport.time, sys.modules["machine"] = tls, board, board
    network = Network(*sockets)
    try:
        client = client_over(transport.Transport(ca=b"ca"), "https://m2x.test")
        try:
            result = on_network(network, client.status)
        except m2x_micro.NetworkError as e:
            result = e
    finally:
        transport.tls, transport.time = saved[:2]
        if saved[2] is None:
            del sys.modules["machine"]
        else:
            sys.modules["machine"] = saved[2]
    return result, board.rtc_set_to, network.opened


FUTURE = "\nThe certificate validity starts in the future\n"
DATED = b"HTTP/1.1 200 OK\r\nDate: Wed, 02 Dec 2026 07:02:47 GMT\r\nContent-Length: 2\r\n\r\n{}"


def test_the_first_connection_on_a_2000_clock_dates_the_board_from_the_same_server():
    tls = FakeTLS((b"leaf", FUTURE), (b"leaf", FUTURE), (b"leaf", None))
    result, rtc, opened = first_connection(tls, ScriptedSocket([]), ScriptedSocket([DATED]),
                                           ScriptedSocket([answer()]))
    assert result == {"ok": 1}
    assert rtc == (2026, 12, 2, 2, 7, 2, 47, 0)
    assert tls.modes == [FakeTLS.CERT_REQUIRED, FakeTLS.CERT_OPTIONAL, FakeTLS.CERT_REQUIRED]
    refused, dating, verified = opened
    assert refused.sent == b"" and refused.closed  # nothing went over the refused handshake
    assert dating.sent.startswith(b"GET /v2/time HTTP/1.1\r\n") and KEY.encode() not in dating.sent
    assert dating.closed
    assert verified.sent.startswith(b"GET /v2/status") and KEY.encode() in verified.sent


def test_a_server_showing_another_certificate_does_not_set_the_clock():
    tls = FakeTLS((b"leaf", FUTURE), (b"another leaf", FUTURE))
    result, rtc, opened = first_connection(tls, ScriptedSocket([]), ScriptedSocket([DATED]))
    assert isinstance(result, m2x_micro.NetworkError) and "certificate not yet valid" in str(result), result
    assert rtc is None and KEY.encode() not in opened[1].sent


def test_a_certificate_refused_for_more_than_its_dates_is_refused_at_once():
    problem = FUTURE + "The certificate Common Name (CN) does not match with the expected CN\n"
    result, rtc, opened = first_connection(FakeTLS((b"leaf", problem)), ScriptedSocket([]))
    assert "wrong host name and certificate not yet valid" in str(result), result
    assert rtc is None and len(opened) == 1
