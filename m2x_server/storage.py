"""SQLite storage: the schema and one transaction per request.

One connection is shared by all request threads and guarded by a lock: each request's
database work (authentication, the handler, the device log) runs as one transaction, so
concurrent clients see each other's writes whole or not at all, and a write is committed
before its answer is sent. WAL with synchronous=NORMAL survives a killed process.
"""

import contextlib
import json
import secrets
import sqlite3
import threading

SCHEMA = """
CREATE TABLE IF NOT EXISTS distributions (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    visibility TEXT NOT NULL,
    serial TEXT,
    status TEXT NOT NULL DEFAULT 'enabled',
    tags TEXT NOT NULL DEFAULT '[]',
    metadata TEXT NOT NULL DEFAULT '{}',
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS devices (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    visibility TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'enabled',
    serial TEXT UNIQUE,
    tags TEXT NOT NULL DEFAULT '[]',
    metadata TEXT NOT NULL DEFAULT '{}',
    distribution_id TEXT REFERENCES distributions(id) ON DELETE SET NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    last_activity INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS collections (
    id TEXT PRIMARY KEY,
    parent_id TEXT REFERENCES collections(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    metadata TEXT NOT NULL DEFAULT '{}',
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS collection_devices (
    collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    PRIMARY KEY (collection_id, device_id)
);
CREATE TABLE IF NOT EXISTS keys (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    is_primary INTEGER NOT NULL DEFAULT 0,
    device_id TEXT REFERENCES devices(id) ON DELETE CASCADE,
    stream TEXT,
    distribution_id TEXT REFERENCES distributions(id) ON DELETE CASCADE,
    collection_id TEXT REFERENCES collections(id) ON DELETE CASCADE,
    permissions TEXT NOT NULL,
    expires_at INTEGER,
    origin TEXT,
    device_access TEXT NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS streams (
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    display_name TEXT,
    type TEXT NOT NULL,
    unit_label TEXT,
    unit_symbol TEXT,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    PRIMARY KEY (device_id, name)
);
-- "value" has no declared type, so ints, floats and strings keep their own type.
CREATE TABLE IF NOT EXISTS stream_values (
    device_id TEXT NOT NULL,
    stream TEXT NOT NULL,
    ts INTEGER NOT NULL,
    value,
    PRIMARY KEY (device_id, stream, ts),
    FOREIGN KEY (device_id, stream) REFERENCES streams(device_id, name) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS waypoints (
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    ts INTEGER NOT NULL,
    name TEXT,
    latitude REAL NOT NULL,
    longitude REAL NOT NULL,
    elevation REAL,
    PRIMARY KEY (device_id, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS request_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    ts INTEGER NOT NULL,
    status INTEGER NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS request_log_by_device ON request_log (device_id, id);
CREATE TABLE IF NOT EXISTS commands (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    data TEXT NOT NULL,
    sent_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS command_deliveries (
    command_id TEXT NOT NULL REFERENCES commands(id) ON DELETE CASCADE,
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    status TEXT NOT NULL DEFAULT 'pending',
    received_at INTEGER,
    processed_at INTEGER,
    rejected_at INTEGER,
    response_data TEXT,
    PRIMARY KEY (command_id, device_id)
);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    device_id TEXT REFERENCES devices(id) ON DELETE SET NULL,
    state TEXT NOT NULL,
    token TEXT NOT NULL UNIQUE,
    csv TEXT NOT NULL,
    created INTEGER NOT NULL,
    started INTEGER NOT NULL,
    finished INTEGER NOT NULL,
    updated INTEGER NOT NULL
);
"""


def new_id():
    """32 lowercase hex characters, the API's id format."""
    return secrets.token_hex(16)


def to_json(value):
    return json.dumps(value, separators=(",", ":"))


def from_json(text):
    return None if text is None else json.loads(text)


def in_list(column, values):
    """SQL 'column IN (...)' and its one argument: a JSON array, so no list is too long."""
    return "%s IN (SELECT value FROM json_each(?))" % column, [to_json(list(values))]


class Database:
    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._conn.executescript(SCHEMA)

    @contextlib.contextmanager
    def transaction(self):
        """The connection inside BEGIN IMMEDIATE ... COMMIT; any exception rolls back."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self):
        with self._lock:
            self._conn.close()
