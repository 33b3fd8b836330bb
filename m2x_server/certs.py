"""A private CA and server certificates for serving https, made with the `openssl` command.

    python -m m2x_server.certs --host m2x.lan --host 192.168.1.20 --out certs [--days 825]

makes, in `certs/`:

    ca.key      the CA's private key (mode 0600; made once, reused by later runs)
    ca.pem      the CA's certificate: what curl --cacert or Python's ssl trust
    ca.der      the same certificate in DER: what a board loads (cadata=)
    server.pem  a certificate for the given names and addresses, signed by the CA
    server.key  its private key (mode 0600)

Keys are EC P-256 and signatures ECDSA with SHA-256: small and fast for a board's mbedtls.
The certificates carry the extensions strict verifiers want (basic constraints, key usage,
key identifiers; serverAuth and subjectAltName for the server). Both certificates start an
hour in the past, so a clock a little behind still accepts them. The CA is valid 10 years.

In Python (tests):

    make_ca(out_dir, name="m2x_server CA")           -> CA(key, pem, der, created)
    issue(out_dir, ["localhost", "127.0.0.1"], ca_dir=None, not_before=None,
          not_after=None, days=825, name="server")     -> Issued(cert, key, hosts, not_before, not_after)

not_before/not_after are a datetime (naive means UTC) or "YYYYMMDDHHMMSSZ", so an expired
certificate can be made: `openssl x509 -req` of OpenSSL 3.0 cannot backdate, so `openssl ca`
with a throwaway configuration and database signs. Errors are CertError.
"""

import argparse
import datetime
import ipaddress
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass

DEFAULT_DAYS = 825  # the longest a server certificate may live for Apple's clients
CA_DAYS = 3650
BACKDATE = datetime.timedelta(hours=1)
LABEL_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
TIME_RE = re.compile(r"^[0-9]{14}Z$")
MAX_CN = 64  # the X.509 upper bound of a commonName


class CertError(Exception):
    """What went wrong, in words for the command line."""


@dataclass(frozen=True)
class CA:
    key: str
    pem: str
    der: str
    created: bool  # False when an existing CA was reused


@dataclass(frozen=True)
class Issued:
    cert: str
    key: str
    hosts: tuple
    not_before: datetime.datetime
    not_after: datetime.datetime


def san_entry(host):
    """"DNS:name" or "IP:address" for one host name or address; CertError if it is neither."""
    if not isinstance(host, str) or not host:
        raise CertError("bad host %r: give a DNS name or an IP address" % (host,))
    try:
        return "IP:" + str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    name = host[:-1] if host.endswith(".") else host
    labels = name.split(".")
    if (len(name) > 253 or not all(LABEL_RE.match(label) for label in labels)
            or labels[-1].isdigit()):  # "10.0.0.300" is neither a name nor an address
        raise CertError("bad host %r: give a DNS name (letters, digits, '-', '.') or an IP address" % host)
    return "DNS:" + name.lower()


def make_ca(out_dir, name="m2x_server CA", days=CA_DAYS):
    """Make out_dir/ca.key, ca.pem and ca.der, or reuse them if ca.key and ca.pem exist."""
    paths = _ca_paths(out_dir)
    key, pem, der = paths
    if os.path.exists(key) or os.path.exists(pem):
        if not (os.path.exists(key) and os.path.exists(pem)):
            missing = pem if os.path.exists(key) else key
            raise CertError("%s is missing: the CA in %s is incomplete (move it away to make a new one)"
                            % (missing, out_dir))
        if not os.path.exists(der):
            _write_der(pem, der)
        return CA(key, pem, der, created=False)
    os.makedirs(out_dir, exist_ok=True)
    start = _utc_now() - BACKDATE
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".tmp-ca-") as tmp:
        tmp_key, tmp_pem, tmp_der = (os.path.join(tmp, os.path.basename(path)) for path in paths)
        _new_key(tmp_key)
        _sign(tmp, name, tmp_key, tmp_pem, None, "ca_ext", start, start + datetime.timedelta(days=days))
        _write_der(tmp_pem, tmp_der)
        for tmp_path, path in zip((tmp_der, tmp_pem, tmp_key), (der, pem, key)):  # the key last:
            os.replace(tmp_path, path)  # a run cut short leaves no key without its certificate
    return CA(key, pem, der, created=True)


def issue(out_dir, hosts, ca_dir=None, not_before=None, not_after=None, days=DEFAULT_DAYS, name="server"):
    """Issue out_dir/NAME.pem and NAME.key for hosts, signed by the CA in ca_dir (default out_dir).

    Valid from not_before (default an hour ago) to not_after (default not_before + days).
    The subject's commonName is the first host; subjectAltName lists them all.
    """
    hosts = [hosts] if isinstance(hosts, str) else list(hosts)
    if not hosts:
        raise CertError("no host: give at least one DNS name or IP address")
    entries = list(dict.fromkeys(san_entry(host) for host in hosts))
    start = _time(not_before) if not_before is not None else _utc_now() - BACKDATE
    end = _time(not_after) if not_after is not None else start + datetime.timedelta(days=days)
    if end <= start:
        raise CertError("the certificate would end (%s) before it starts (%s)" % (end, start))
    ca_key, ca_pem, _ = _ca_paths(ca_dir if ca_dir is not None else out_dir)
    for path in (ca_key, ca_pem):
        if not os.path.exists(path):
            raise CertError("no CA: %s is missing (make_ca first)" % path)
    cert, key = os.path.join(out_dir, name + ".pem"), os.path.join(out_dir, name + ".key")
    common_name = entries[0].split(":", 1)[1]
    if len(common_name) > MAX_CN:
        common_name = "m2x_server"  # the names that count are in subjectAltName
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".tmp-issue-") as tmp:
        tmp_key, tmp_cert = os.path.join(tmp, "key"), os.path.join(tmp, "cert")
        _new_key(tmp_key)
        _sign(tmp, common_name, tmp_key, tmp_cert, (ca_pem, ca_key), "server_ext", start, end, entries)
        os.replace(tmp_cert, cert)
        os.replace(tmp_key, key)
    return Issued(cert, key, tuple(entry.split(":", 1)[1] for entry in entries), start, end)


def _ca_paths(directory):
    return tuple(os.path.join(directory, leaf) for leaf in ("ca.key", "ca.pem", "ca.der"))


def _new_key(path):
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-pkeyopt", "ec_param_enc:named_curve", "-out", path)
    os.chmod(path, 0o600)


def _sign(tmp, common_name, key, out, ca, extensions, start, end, san=()):
    """A certificate for key, CN=common_name, valid start..end, signed by ca=(pem, key) or by
    itself (ca=None): `openssl ca` with a configuration and database made for this one use."""
    csr = os.path.join(tmp, "csr")
    _write(os.path.join(tmp, "index.txt"), "")
    config = _write(os.path.join(tmp, "sign.cnf"), _SIGN_CONFIG % {"dir": tmp, "san": ",".join(san) or "none"})
    _openssl("req", "-new", "-config", config, "-key", key, "-subj", _subject(common_name), "-out", csr)
    signer = ["-selfsign", "-keyfile", key] if ca is None else ["-cert", ca[0], "-keyfile", ca[1]]
    _openssl("ca", "-batch", "-notext", "-config", config, "-extensions", extensions, *signer, "-in", csr,
             "-out", out, "-startdate", _asn1(start), "-enddate", _asn1(end))


def _write_der(pem, der):
    _openssl("x509", "-in", pem, "-outform", "DER", "-out", der)


def _subject(common_name):
    return "/CN=" + common_name.replace("\\", "\\\\").replace("/", "\\/")


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def _utc_now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _time(value):
    """A datetime (naive means UTC) or "YYYYMMDDHHMMSSZ" as an aware UTC datetime."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=datetime.timezone.utc, microsecond=0)
        return value.astimezone(datetime.timezone.utc).replace(microsecond=0)
    if isinstance(value, str) and TIME_RE.match(value):
        try:
            return datetime.datetime.strptime(value, "%Y%m%d%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            pass
    raise CertError("bad time %r: give a datetime or YYYYMMDDHHMMSSZ" % (value,))


def _asn1(moment):
    return moment.strftime("%Y%m%d%H%M%SZ")


def openssl_program():
    """The openssl command: $OPENSSL or the one on PATH; CertError if there is none."""
    program = os.environ.get("OPENSSL") or shutil.which("openssl")
    if not program or not os.access(program, os.X_OK):
        raise CertError("the openssl command was not found: install it (Debian: apt install openssl) "
                        "or set OPENSSL to its path")
    return program


def _openssl(*args):
    program = openssl_program()
    try:
        result = subprocess.run([program, *args], capture_output=True, text=True, timeout=60,
                                env=dict(os.environ, OPENSSL_CONF=os.devnull))
    except OSError as exc:
        raise CertError("cannot run %s: %s" % (program, exc)) from None
    if result.returncode != 0:
        raise CertError("openssl %s failed: %s" % (args[0], result.stderr.strip() or result.stdout.strip()))
    return result.stdout


_SIGN_CONFIG = """\
[req]
distinguished_name = req_dn
prompt = no
[req_dn]
[ca]
default_ca = throwaway
[throwaway]
dir = %(dir)s
database = $dir/index.txt
new_certs_dir = $dir
rand_serial = yes
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none
[policy_any]
commonName = supplied
[ca_ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = %(san)s
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m m2x_server.certs",
        description="Make a private CA (once) and a server certificate for m2x_server's https.")
    parser.add_argument("--host", action="append", required=True, metavar="NAME",
                        help="a DNS name or IP address the server is reached at (repeat for more)")
    parser.add_argument("--out", required=True, metavar="DIR", help="directory for the CA and certificate")
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS,
                        help="days the server certificate is valid (default %d)" % DEFAULT_DAYS)
    args = parser.parse_args(argv)
    if args.days < 1:
        parser.error("--days must be at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    out = args.out
    try:
        for host in args.host:
            san_entry(host)  # a bad host or no openssl fails before anything is made
        openssl_program()
        ca = make_ca(out)
        server = issue(out, args.host, days=args.days)
    except CertError as exc:
        print("m2x_server.certs: error: %s" % exc, file=sys.stderr)
        return 2
    q = shlex.quote
    print("%s the CA: %s (secret), %s, %s" % ("made" if ca.created else "reused", ca.key, ca.pem, ca.der))
    print("issued %s and %s (secret) for %s, valid until %s"
          % (server.cert, server.key, ", ".join(server.hosts), server.not_after.strftime("%Y-%m-%d %H:%M UTC")))
    print()
    print("serve https (listening on every interface, so boards can reach it):")
    print("  python -m m2x_server --host 0.0.0.0 --port 8443 --db m2x.sqlite3 --tls-cert %s --tls-key %s"
          % (q(server.cert), q(server.key)))
    print("check it:")
    print("  curl --cacert %s https://%s/v2/status" % (q(ca.pem), _authority(server.hosts[0], 8443)))
    print("put the CA on a board, then set CA = \"ca.der\" in its config.py:")
    print("  mpremote cp %s :ca.der" % q(ca.der))
    return 0


def _authority(host, port):
    return ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)


if __name__ == "__main__":
    sys.exit(main())
