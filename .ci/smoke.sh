#!/usr/bin/env bash
# Smoke test of the built gateway through the launcher, as a user runs it: start
# bin/brainstorm-proxy on the given JDK, wait for /readyz, send one chat completion and one
# stream with curl, check the answer and the governance headers, then stop it by PID.
#   usage: .ci/smoke.sh JAVA_HOME [PORT]
set -euo pipefail
cd "$(dirname "$0")/.."
java_home="$1"
port="${2:-18473}"
work="$(mktemp -d)"
key="br_live_SmokeTestKey00000000000000000000"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT

JAVA_HOME="$java_home" BR_API_KEY="$key" BR_STATE_DIR="$work/state" \
  bin/brainstorm-proxy --port "$port" >"$work/out.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
  if curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then break; fi
  kill -0 "$pid" 2>/dev/null || { cat "$work/out.log"; echo "smoke: gateway exited" >&2; exit 1; }
  sleep 0.05
done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null

curl -fs -D "$work/headers" -o "$work/body" "http://127.0.0.1:$port/v1/chat/completions" \
  -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  -d '{"model":"sim/alpha","messages":[{"role":"user","content":"smoke"}]}'
grep -qi '^x-br-selected-model: sim/alpha' "$work/headers"
grep -qi '^x-br-actual-cost: ' "$work/headers"
grep -q '"chat.completion"' "$work/body"

curl -fsN "http://127.0.0.1:$port/v1/chat/completions" \
  -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  -d '{"model":"sim/alpha","stream":true,"messages":[{"role":"user","content":"smoke"}]}' >"$work/stream"
grep -q '^: x-br ' "$work/stream"
tail -n 2 "$work/stream" | grep -q '^data: \[DONE\]'

if grep -Eq 'WARNING: (A restricted|sun.misc.Unsafe|A terminally)' "$work/out.log"; then
  cat "$work/out.log"; echo "smoke: JVM warnings at start" >&2; exit 1
fi
echo "smoke: $("$java_home/bin/java" -version 2>&1 | head -n1): chat, stream and headers OK"
