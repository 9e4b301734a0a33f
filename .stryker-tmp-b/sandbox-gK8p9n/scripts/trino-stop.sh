#!/usr/bin/env bash
# Stops the Trino that scripts/trino-start.sh started in TRINO_STATE: TERM, then KILL after 20 s.
set -euo pipefail
state=${TRINO_STATE:?set TRINO_STATE to the directory trino-start.sh printed}
pidfile="$state/trino.pid"
[ -f "$pidfile" ] || exit 0
pid=$(cat "$pidfile")
if kill -0 "$pid" 2>/dev/null; then
  kill -TERM "$pid"
  for _ in $(seq 1 80); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
fi
rm -f "$pidfile"
