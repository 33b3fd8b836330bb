"""Certificates for the TLS tests, made with m2x_server.certs (the openssl command).

    certs = make_test_certs(directory)       # or the session fixture `tls_certs` (conftest.py)
    certs.ca_pem, certs.ca_der               # the CA the tests trust
    certs.good_cert, certs.good_key          # localhost + 127.0.0.1, valid now
    certs.wrong_host_cert, ...wrong_host_key # wrong.example only: a host name mismatch on 127.0.0.1
    certs.expired_cert, certs.expired_key    # localhost + 127.0.0.1, 2020-01-01 to 2021-01-01
    certs.unknown_ca_pem, ...unknown_ca_der  # another CA: trusting only it, good_cert is refused

Each server certificate is signed by the CA; all paths are str. No pytest here.
"""

import os
from dataclasses import dataclass

from m2x_server import certs as _certs

HOSTS = ("localhost", "127.0.0.1")
WRONG_HOST = "wrong.example"
EXPIRED_FROM, EXPIRED_UNTIL = "20200101000000Z", "20210101000000Z"


@dataclass(frozen=True)
class TlsCerts:
    directory: str
    ca_pem: str
    ca_der: str
    ca_key: str
    unknown_ca_pem: str
    unknown_ca_der: str
    good_cert: str
    good_key: str
    wrong_host_cert: str
    wrong_host_key: str
    expired_cert: str
    expired_key: str


def make_test_certs(directory):
    """Make the CA, the unknown CA and the three server certificates in directory."""
    directory = str(directory)
    ca = _certs.make_ca(directory, name="m2x_server test CA")
    unknown = _certs.make_ca(os.path.join(directory, "unknown-ca"), name="m2x_server unknown test CA")
    good = _certs.issue(directory, HOSTS, name="good")
    wrong = _certs.issue(directory, [WRONG_HOST], name="wrong-host")
    expired = _certs.issue(directory, HOSTS, not_before=EXPIRED_FROM, not_after=EXPIRED_UNTIL, name="expired")
    return TlsCerts(directory, ca.pem, ca.der, ca.key, unknown.pem, unknown.der, good.cert, good.key,
                    wrong.cert, wrong.key, expired.cert, expired.key)
