"""https for self-hosting: `python -m m2x_server.certs`, certificates CPython's ssl accepts or
refuses for the right reason, and the keep-alive knobs (idle timeout, connections accepted)."""

import http.client
import os
import socket
import ssl
import stat
import subprocess
import sys
import time

import pytest

from m2x_server import certs, make_server
from server_process import REPO, SubprocessServer, running_server

HOSTS = ("localhost", "127.0.0.1")


def run_certs(*args, **env):
    return subprocess.run([sys.executable, "-m", "m2x_server.certs", *args], cwd=str(REPO),
                          capture_output=True, text=True, timeout=60, env=dict(os.environ, **env))


def client_context(ca_der):
    """What a careful client does: trust only this CA (DER, as a board loads it), check host names.
    X509_STRICT as Python 3.13's default context has it, so the certificates stay acceptable there."""
    with open(ca_der, "rb") as f:
        context = ssl.create_default_context(cadata=f.read())
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    return context


def get_status(host, port, context):
    connection = http.client.HTTPSConnection(host, port, context=context, timeout=10)
    try:
        connection.request("GET", "/v2/status")
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def refusal(host, port, context):
    with pytest.raises(ssl.SSLCertVerificationError) as refused:
        get_status(host, port, context)
    return refused.value


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


# --- the command ---------------------------------------------------------------------------

def test_the_command_makes_a_ca_and_a_server_certificate_with_private_keys_0600(tmp_path):
    out = tmp_path / "certs"
    result = run_certs("--host", "localhost", "--host", "127.0.0.1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(out)) == ["ca.der", "ca.key", "ca.pem", "server.key", "server.pem"]
    assert mode(out / "ca.key") == 0o600 and mode(out / "server.key") == 0o600
    assert (out / "ca.der").read_bytes() == ssl.PEM_cert_to_DER_cert((out / "ca.pem").read_text())
    text = subprocess.run(["openssl", "x509", "-in", str(out / "server.pem"), "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout
    assert "Subject: CN = localhost" in text and "DNS:localhost, IP Address:127.0.0.1" in text
    assert "NIST CURVE: P-256" in text and "ecdsa-with-SHA256" in text and "CA:FALSE" in text
    assert "made the CA" in result.stdout
    for line in ("--tls-cert %s/server.pem --tls-key %s/server.key" % (out, out),
                 "curl --cacert %s/ca.pem https://localhost:8443/v2/status" % out,
                 "mpremote cp %s/ca.der :ca.der" % out, 'CA = "ca.der"'):
        assert line in result.stdout


def test_a_second_run_reuses_the_ca_and_its_new_certificate_is_trusted_by_the_first_der(tmp_path):
    out = tmp_path / "certs"
    assert run_certs("--host", "localhost", "--out", str(out)).returncode == 0
    first_der, first_key, first_cert = ((out / name).read_bytes() for name in ("ca.der", "ca.key", "server.pem"))
    trusted = tmp_path / "board-ca.der"
    trusted.write_bytes(first_der)  # what a board got after the first run
    result = run_certs("--host", "127.0.0.1", "--host", "localhost", "--out", str(out), "--days", "30")
    assert result.returncode == 0, result.stderr
    assert "reused the CA" in result.stdout
    assert (out / "ca.der").read_bytes() == first_der and (out / "ca.key").read_bytes() == first_key
    assert (out / "server.pem").read_bytes() != first_cert
    with running_server(tmp_path / "m2x.sqlite3", tls_cert=out / "server.pem", tls_key=out / "server.key") as server:
        for host in HOSTS:
            assert get_status(host, server.port, client_context(trusted))[0] == 200


@pytest.mark.parametrize("host", ["bad host", "10.0.0.300", "-x.example", "a..b"])
def test_a_bad_host_is_exit_status_2_and_makes_nothing(tmp_path, host):
    result = run_certs("--host", "localhost", "--host=" + host, "--out", str(tmp_path / "certs"))
    assert result.returncode == 2
    assert result.stderr.startswith("m2x_server.certs: error: bad host %r" % host)
    assert not (tmp_path / "certs").exists()


def test_no_openssl_is_exit_status_2_with_a_clear_message(tmp_path):
    result = run_certs("--host", "localhost", "--out", str(tmp_path / "certs"), PATH=str(tmp_path), OPENSSL="")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "the openssl command was not found" in result.stderr
    assert not (tmp_path / "certs").exists()


def test_usage_errors_are_exit_status_2(tmp_path):
    assert run_certs("--out", str(tmp_path)).returncode == 2  # no --host
    assert run_certs("--host", "localhost").returncode == 2  # no --out
    assert run_certs("--host", "localhost", "--out", str(tmp_path), "--days", "0").returncode == 2


def test_issue_checks_its_dates_and_hosts(tmp_path):
    certs.make_ca(tmp_path)
    with pytest.raises(certs.CertError, match="before it starts"):
        certs.issue(tmp_path, ["localhost"], not_before="20210101000000Z", not_after="20200101000000Z")
    with pytest.raises(certs.CertError, match="bad time"):
        certs.issue(tmp_path, ["localhost"], not_after="2021-01-01")
    with pytest.raises(certs.CertError, match="no host"):
        certs.issue(tmp_path, [])
    with pytest.raises(certs.CertError, match="no CA"):
        certs.issue(tmp_path / "elsewhere", ["localhost"])
    assert certs.san_entry("[::1]") == "IP:::1" and certs.san_entry("M2X.lan.") == "DNS:m2x.lan"


# --- what CPython's ssl makes of them ------------------------------------------------------

def test_the_cli_server_with_the_commands_certificate_answers_https_for_localhost_and_127_0_0_1(tmp_path):
    out = tmp_path / "certs"
    assert run_certs("--host", "localhost", "--host", "127.0.0.1", "--out", str(out)).returncode == 0
    server = SubprocessServer(tmp_path / "m2x.sqlite3", tls_cert=out / "server.pem", tls_key=out / "server.key",
                              ca=out / "ca.pem")
    server.start()
    try:
        assert server.url == "https://127.0.0.1:%d" % server.port
        assert server.startup_lines[-1] == "m2x_server listening on " + server.url
        for host in HOSTS:
            assert get_status(host, server.port, client_context(out / "ca.der")) == (
                200, b'{"api":"OK","triggers":"OK"}')
        assert server.request("GET", "/v2/devices").json()["devices"] == []  # requests, verify=ca.pem
        curl = subprocess.run(["curl", "-sS", "--cacert", str(out / "ca.pem"),
                               "https://localhost:%d/v2/status" % server.port],
                              capture_output=True, text=True, timeout=30)
        assert curl.returncode == 0 and curl.stdout == '{"api":"OK","triggers":"OK"}', curl.stderr
    finally:
        assert server.stop() == 0


def test_a_certificate_for_another_host_is_refused_as_a_host_name_mismatch(tmp_path, tls_certs):
    with running_server(tmp_path / "m2x.sqlite3", tls_cert=tls_certs.wrong_host_cert,
                        tls_key=tls_certs.wrong_host_key) as server:
        refused = refusal("localhost", server.port, client_context(tls_certs.ca_der))
        assert refused.verify_code == 62 and "Hostname mismatch" in refused.verify_message
        refused = refusal("127.0.0.1", server.port, client_context(tls_certs.ca_der))
        assert refused.verify_code == 64 and "IP address mismatch" in refused.verify_message
        # the same certificate is fine for the name it was made for: only the name is wrong
        context = client_context(tls_certs.ca_der)
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname="wrong.example") as tls:
                assert tls.getpeercert()["subjectAltName"] == (("DNS", "wrong.example"),)


def test_an_expired_certificate_is_refused_as_expired(tmp_path, tls_certs):
    with running_server(tmp_path / "m2x.sqlite3", tls_cert=tls_certs.expired_cert,
                        tls_key=tls_certs.expired_key) as server:
        for host in HOSTS:
            refused = refusal(host, server.port, client_context(tls_certs.ca_der))
            assert refused.verify_code == 10 and refused.verify_message == "certificate has expired"


def test_a_good_certificate_is_refused_by_a_client_trusting_only_the_unknown_ca(tmp_path, tls_certs):
    with running_server(tmp_path / "m2x.sqlite3", tls_cert=tls_certs.good_cert, tls_key=tls_certs.good_key,
                        ca=tls_certs.ca_pem) as server:
        assert server.url.startswith("https://")
        for host in HOSTS:
            assert get_status(host, server.port, client_context(tls_certs.ca_der))[0] == 200
            refused = refusal(host, server.port, client_context(tls_certs.unknown_ca_der))
            assert refused.verify_code == 20  # unable to get local issuer certificate
        assert server.request("GET", "/v2/devices").status_code == 200


# --- keep-alive knobs ----------------------------------------------------------------------

def read_answer(sock):
    """One HTTP answer with Content-Length off a socket: (head, body, rest of the buffer)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, "closed before an answer: %r" % data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int([line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")][0]
                 .split(b":")[1])
    while len(body) < length:
        chunk = sock.recv(4096)
        assert chunk, "closed in a body"
        body += chunk
    return head, body[:length]


def seconds_until_closed(sock, limit=10):
    sock.settimeout(limit)
    started = time.monotonic()
    try:
        assert sock.recv(1) == b""
    except ConnectionResetError:
        pass
    return time.monotonic() - started


REQUEST = b"GET /v2/status HTTP/1.1\r\nHost: localhost\r\n\r\n"


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_the_idle_timeout_closes_a_kept_alive_connection_after_a_silent_second(tmp_path, tls_certs, tls):
    """Requests 0.5 s apart keep the connection (2 s in all); a silent second closes it."""
    options = dict(tls_cert=tls_certs.good_cert, tls_key=tls_certs.good_key) if tls else {}
    with running_server(tmp_path / "m2x.sqlite3", idle_timeout=1, **options) as server:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        if tls:
            sock = client_context(tls_certs.ca_der).wrap_socket(sock, server_hostname="localhost")
        with sock:
            for _ in range(4):
                sock.sendall(REQUEST)
                head, body = read_answer(sock)
                assert head.startswith(b"HTTP/1.1 200 ") and b"connection: close" not in head.lower()
                time.sleep(0.5)
            waited = seconds_until_closed(sock)
        assert 0.3 <= waited <= 3, waited  # ~0.5 s: 1 s since the last answer, 0.5 of it slept
        assert server.connections_accepted == 1


def test_the_command_line_idle_timeout(tmp_path):
    with running_server(tmp_path / "m2x.sqlite3", subprocess=True, idle_timeout=1) as server:
        assert "--idle-timeout" in server.command()
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(REQUEST)
            read_answer(sock)
            waited = seconds_until_closed(sock)
        assert 0.8 <= waited <= 3, waited


def test_the_idle_timeout_must_be_a_positive_number(tmp_path):
    for bad in (0, -1, float("inf"), float("nan"), "1", True):
        with pytest.raises(ValueError, match="idle_timeout"):
            make_server(db_path=str(tmp_path / "m2x.sqlite3"), idle_timeout=bad)
    result = subprocess.run([sys.executable, "-m", "m2x_server", "--idle-timeout", "0"], cwd=str(REPO),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "--idle-timeout" in result.stderr


def test_the_default_idle_timeout_is_60_seconds(tmp_path):
    server = make_server(db_path=str(tmp_path / "m2x.sqlite3"))
    try:
        assert server.idle_timeout == 60
    finally:
        server.shutdown()


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_connections_accepted_counts_tcp_connections_not_requests(tmp_path, tls_certs, tls):
    options = dict(tls_cert=tls_certs.good_cert, tls_key=tls_certs.good_key) if tls else {}

    def connection():
        if tls:
            return http.client.HTTPSConnection("127.0.0.1", server.port, timeout=10,
                                               context=client_context(tls_certs.ca_der))
        return http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)

    with running_server(tmp_path / "m2x.sqlite3", **options) as server:
        assert server.connections_accepted == 0
        kept = connection()
        for _ in range(100):
            kept.request("GET", "/v2/status")
            assert kept.getresponse().read() == b'{"api":"OK","triggers":"OK"}'
        kept.close()
        assert server.connections_accepted == 1
        for _ in range(3):
            single = connection()
            single.request("GET", "/v2/status")
            assert single.getresponse().status == 200
            single.close()
        assert server.connections_accepted == 4
