#!/usr/bin/env bash
# make demo: start m2x_server on a free loopback port with a temporary database, run the
# unix board's app on the MicroPython unix port against it, and stop the server, also when
# the app fails. Exits with the app's status.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$root/.venv/bin
work=$(mktemp -d)
server_pid=""

stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap stop_server EXIT

"$bin/python" -m m2x_server --host 127.0.0.1 --port 0 --db "$work/m2x.sqlite3" >"$work/server.out" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  grep -q '^m2x_server listening on ' "$work/server.out" && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.out"; echo "m2x_server did not start" >&2; exit 1; }
  sleep 0.1
done
url=$(sed -n 's/^m2x_server listening on //p' "$work/server.out")
key=$(sed -n 's/^master key: //p' "$work/server.out")
[ -n "$url" ] && [ -n "$key" ] || { cat "$work/server.out"; echo "m2x_server gave no address or key" >&2; exit 1; }
echo "m2x_server started on $url with a fresh database"

printf 'M2X_KEY = "%s"\nM2X_ENDPOINT = "%s"\n' "$key" "$url" >"$work/config.py"
# main.py runs from $work: MicroPython looks first in the script's folder, where a
# boards/unix/config.py of yours would otherwise win over this one. The client and the
# app are the compiled ones of `make mpy`, as a board has them.
cp "$root/boards/unix/main.py" "$work/main.py"
MICROPYPATH="$root/build:.frozen" "$bin/micropython" "$work/main.py"
echo "m2x_server stopped"
