#!/usr/bin/env bash
# make demo: start m2x_server on a free loopback port with a temporary database, run the
# unix board's app on the MicroPython unix port against it, and stop the server, also when
# the app fails. Exits 0 only when the scenario ran and every reading of the field part
# arrived.
#   1. the seed's scenario: a device, streams, values, a batch, stats, commands;
#   2. the field part: readings go to the outbox on "flash" first. The server goes away
#      for two runs (each run is a new process, as a board's reboot), the readings queue;
#      it comes back on the same port, the queue drains, and the check reads every
#      reading back from the server.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$root/.venv/bin
work=$(mktemp -d)
server_pid=""

start_server() {  # $1: the port (0: a free one)
  : >"$work/server.out"
  "$bin/python" -m m2x_server --host 127.0.0.1 --port "$1" --db "$work/m2x.sqlite3" >"$work/server.out" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    grep -q '^m2x_server listening on ' "$work/server.out" && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$work/server.out"
  echo "m2x_server did not start" >&2
  exit 1
}

stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
trap 'stop_server; rm -rf "$work"' EXIT

start_server 0
url=$(sed -n 's/^m2x_server listening on //p' "$work/server.out")
key=$(sed -n 's/^master key: //p' "$work/server.out")
[ -n "$url" ] && [ -n "$key" ] || { cat "$work/server.out"; echo "m2x_server gave no address or key" >&2; exit 1; }
echo "m2x_server started on $url with a fresh database"

printf 'M2X_KEY = "%s"\nM2X_ENDPOINT = "%s"\n' "$key" "$url" >"$work/config.py"
# main.py runs in $work: MicroPython looks first in the script's folder, where a
# boards/unix/config.py of yours would otherwise win over this one, and the outbox lives in
# $work/outbox. The client, its add-ons and the app are the compiled ones of `make mpy`, as
# a board has them.
cp "$root/boards/unix/main.py" "$work/main.py"
board() { (cd "$work" && MICROPYPATH="$root/build:.frozen" "$bin/micropython" main.py "$@"); }

board
echo "--- the field part: readings go to the outbox first"
board field 5
stop_server
echo "--- m2x_server stopped: the board keeps taking readings"
board field 5
board field 5
start_server "${url##*:}"
echo "--- m2x_server back on $url"
board field 5
board check
stop_server
echo "m2x_server stopped"
