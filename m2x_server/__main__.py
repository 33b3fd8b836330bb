"""python -m m2x_server --host 127.0.0.1 --port 8080 --db m2x.sqlite3 [--master-key KEY]
                        [--tls-cert C --tls-key K] [--idle-timeout SECONDS] [--log-requests]

Prints `master key: KEY` when it created the account's primary master key, then
`m2x_server listening on URL` once it accepts connections. Ctrl-C or SIGTERM stop it
(exit 0) after the request in progress is committed.
"""

import argparse
import signal
import sqlite3
import ssl
import sys
import threading

from . import __version__
from .httpd import IDLE_TIMEOUT, make_server


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="m2x_server", description="A local M2X API v2 server on SQLite.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on, 0 for a free one (default 8080)")
    parser.add_argument("--db", default="m2x.sqlite3", help="SQLite database file, created if missing")
    parser.add_argument(
        "--master-key",
        help="the account's primary master key: set in a new database, replaces the old one in an existing database",
    )
    parser.add_argument("--tls-cert", help="PEM certificate: serve https")
    parser.add_argument("--tls-key", help="PEM private key for --tls-cert")
    parser.add_argument("--idle-timeout", type=float, default=IDLE_TIMEOUT, metavar="SECONDS",
                        help="close a connection idle this long, kept-alive ones too (default %d)" % IDLE_TIMEOUT)
    parser.add_argument("--log-requests", action="store_true", help="log every request to stderr")
    parser.add_argument("--version", action="version", version="m2x_server " + __version__)
    args = parser.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    if not 0 < args.idle_timeout < float("inf"):
        parser.error("--idle-timeout must be a positive number of seconds")
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        server = make_server(args.host, args.port, args.db, args.master_key, args.tls_cert, args.tls_key,
                             args.log_requests, args.idle_timeout)
    except (OSError, ValueError, sqlite3.Error, ssl.SSLError) as exc:
        print("m2x_server: error: %s" % exc, file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    server.start()
    if server.created_master_key:
        print("master key: %s" % server.master_key, flush=True)
    print("m2x_server listening on %s" % server.url, flush=True)
    while not stop.wait(0.5):
        pass
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
