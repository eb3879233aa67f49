#!/usr/bin/env bash
# Smoke test of the built gateway through the launcher, as a user runs it: start
# bin/brainstorm-proxy on the given JDK, wait for /readyz, send one chat completion and one
# stream with curl, check the answer and the governance headers, make a tenant and a key with the
# admin CLI, use and revoke the key, check a structured stream's score, /metrics (promtool), the
# dashboard's login and the audit chain, then stop the gateway by PID. The launcher's start-up
# archive is recorded first (`version`), and the gateway must have it mapped: the AOT cache on
# JDK 25 and newer, the CDS archive before; no JVM warning at start.
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

admin_port=$((port + 1))
admin_token="smoke-admin-token-0123456789abcdef"
export JAVA_HOME="$java_home" BR_STATE_DIR="$work/state" BR_ADMIN_PORT="$admin_port" BR_ADMIN_TOKEN="$admin_token"
# the first use per JDK and build records the AOT cache or CDS archive (a training run of selftest)
bin/brainstorm-proxy version >/dev/null
java_major="$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*"$/\1/p' "$java_home/release")"
archive_kind=jsa
[ "${java_major:-17}" -ge 25 ] && archive_kind=aot
ls proxy-core/target/brainstorm-proxy-jdk*."$archive_kind" >/dev/null 2>&1 \
  || { echo "smoke: the launcher recorded no .$archive_kind file for JDK $java_major" >&2; exit 1; }
BR_API_KEY="$key" bin/brainstorm-proxy --port "$port" >"$work/out.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
  if curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then break; fi
  kill -0 "$pid" 2>/dev/null || { cat "$work/out.log"; echo "smoke: gateway exited" >&2; exit 1; }
  sleep 0.05
done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null
# the launcher execs the JVM, so $pid is the gateway's: it maps the archive it was started with
grep -q "brainstorm-proxy-jdk.*\.$archive_kind\$" "/proc/$pid/maps" \
  || { echo "smoke: the gateway on JDK $java_major does not use the launcher's .$archive_kind file" >&2; exit 1; }

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

# the admin CLI: a tenant and a budgeted key made at run time, used, then revoked
bin/brainstorm-proxy tenants create smoke --name "Smoke test" >/dev/null
key2="$(bin/brainstorm-proxy keys create --tenant smoke --name smoke-app --budget-usd 1 --rpm 60 --print)"
case "$key2" in br_live_*) ;; *) echo "smoke: keys create printed '$key2'" >&2; exit 1 ;; esac
curl -fs -o /dev/null "http://127.0.0.1:$port/v1/chat/completions" \
  -H "Authorization: Bearer $key2" -H 'Content-Type: application/json' \
  -d '{"model":"sim/alpha","messages":[{"role":"user","content":"smoke"}]}'
bin/brainstorm-proxy keys list --tenant smoke | grep -q smoke-app
key2_id="$(bin/brainstorm-proxy keys list --tenant smoke --json | grep -o '"id":"key_[0-9a-f]*"' | head -n1 | cut -d'"' -f4)"
bin/brainstorm-proxy keys revoke "$key2_id" >/dev/null
code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/models" -H "Authorization: Bearer $key2")"
[ "$code" = 401 ] || { echo "smoke: a revoked key got $code" >&2; exit 1; }

# a structured stream ends once it is scored: the x-br comment carries its score
curl -fsN "http://127.0.0.1:$port/v1/chat/completions" \
  -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -H 'X-Title: smoke' \
  -d '{"model":"sim/alpha","stream":true,"response_format":{"type":"json_object"},"messages":[{"role":"user","content":"smoke"}]}' >"$work/json-stream"
grep -q '^: x-br .*"score":' "$work/json-stream" || { cat "$work/json-stream"; echo "smoke: no score in x_br" >&2; exit 1; }

# /metrics in Prometheus' text format (checked by promtool where it is installed)
curl -fs "http://127.0.0.1:$admin_port/metrics" >"$work/metrics"
grep -q '^brainstorm_requests_total{' "$work/metrics"
if command -v promtool >/dev/null; then
  promtool check metrics <"$work/metrics" || { echo "smoke: promtool refused /metrics" >&2; exit 1; }
fi

# the dashboard: the page, and a login that sets an HttpOnly, SameSite=Strict cookie
# to a file, not a pipe: grep -q stops reading at the first match and curl's write error (23) would fail the pipeline
curl -fs -o "$work/dashboard.html" "http://127.0.0.1:$admin_port/dashboard"
grep -q 'brainstorm-proxy' "$work/dashboard.html"
curl -fs -D "$work/login" -o /dev/null "http://127.0.0.1:$admin_port/dashboard/login" \
  -H 'Content-Type: application/json' -d "{\"token\":\"$admin_token\"}"
grep -i '^set-cookie: br_session=' "$work/login" | grep -i 'httponly' | grep -qi 'samesite=strict'

# the audit trail: every request above is in it, and the chain verifies up to the published head
for _ in $(seq 1 50); do
  bin/brainstorm-proxy audit verify --head-from-admin >"$work/verify" 2>&1 && break
  sleep 0.1
done
bin/brainstorm-proxy audit verify --head-from-admin >"$work/verify" 2>&1 || { cat "$work/verify"; echo "smoke: audit verify failed" >&2; exit 1; }
grep -q '"app":"smoke"' "$work"/state/audit/audit-*.jsonl

if grep -Eq 'WARNING: (A restricted|sun.misc.Unsafe|A terminally)|\[(warning|error)\]\[(aot|cds)' "$work/out.log"; then
  cat "$work/out.log"; echo "smoke: JVM warnings at start" >&2; exit 1
fi
echo "smoke: $("$java_home/bin/java" -version 2>&1 | head -n1): .$archive_kind start-up archive, chat, stream, headers, admin CLI, scores, /metrics, dashboard and audit trail OK"
