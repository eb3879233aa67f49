#!/usr/bin/env bash
# End-to-end load benchmark (targets in benchmarks/README.md): the same closed-loop load, on loopback, against
#   direct   load generator -> zero-delay sim
#   nginx    load generator -> nginx proxy_pass -> sim
#   gateway  load generator -> brainstorm-proxy -> sim
# with the sim and the load generator pinned to core 0 and nginx / the gateway to core 1.
# Also: JMH micro-benchmarks, gateway start-up time, idle and loaded RSS, and a streaming round.
# Prints a markdown report and writes it to benchmarks/RESULTS.md.
#
# MODE=sidecar (benchmarks/README.md, "Sidecar mode") runs the gateway with the launcher's own
# defaults (no --threads) with /metrics and the dashboard's stats scraped every second, records the
# warm-up curve of the gateway and of nginx (req/s per second from the first moment each is ready),
# reports CPU µs per request and RSS for both proxies against the sidecar targets, and writes its
# report as a block of OUT (replacing its previous block; the rest of the file is kept).
#
# Environment (defaults in brackets):
#   MODE     [default]  or sidecar                 CURVE [30]  sidecar: seconds of the warm-up curve
#   DURATION [10]  measured seconds per run       WARMUP [5]  warm-up seconds per run
#   ROUNDS   [2]   rounds of every target          LEVELS ["1 64 256"]  connection counts
#   JMH      [1]   0 skips the JMH run             BR_THREADS [1; sidecar: unset]  gateway event loops
#   OUT      [benchmarks/RESULTS.md]               BENCH_CORES ["0 1"]  load/sim core, proxy core
#   UPSTREAM [sim; sidecar: canned]  canned: the sim's answers, recorded once, served by CannedUpstream
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

MODE="${MODE:-default}"
case "$MODE" in
  default) BR_THREADS="${BR_THREADS:-1}"; UPSTREAM="${UPSTREAM:-sim}" ;;
  sidecar) BR_THREADS="${BR_THREADS:-}"; UPSTREAM="${UPSTREAM:-canned}" ;;
  *) echo "run.sh: MODE=$MODE (expected: default or sidecar)" >&2; exit 1 ;;
esac
CURVE="${CURVE:-30}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-5}"
ROUNDS="${ROUNDS:-2}"
LEVELS="${LEVELS:-1 64 256}"
JMH="${JMH:-1}"
OUT="${OUT:-$ROOT/benchmarks/RESULTS.md}"
read -r LOAD_CORE PROXY_CORE <<<"${BENCH_CORES:-0 1}"

SIM_PORT=19090
NGINX_PORT=19091
GW_PORT=19092
ADMIN_PORT=19093                                      # the gateway's admin listener, see bench.yaml
BENCH_KEY=br_live_benchonly0123456789abcdefghijklm   # benchmark-only, see benchmarks/load/bench.yaml
# benchmark-only admin token of this loopback gateway (the dashboard's stats need one)
export BR_ADMIN_TOKEN=benchonly-admin-token-0123456789abcdef
JAR="$ROOT/benchmarks/target/benchmarks.jar"

TMP="$(mktemp -d /tmp/br-bench.XXXXXX)"
PIDS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

# Stops one process this script started (TERM, then KILL after 10 s) and forgets it, so that the
# final cleanup never signals a process id the system has handed out again.
stop_pid() {
  kill "$1" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  forget_pid "$1"
}
forget_pid() {
  local p kept=()
  for p in "${PIDS[@]}"; do
    [ "$p" = "$1" ] || kept+=("$p")
  done
  PIDS=("${kept[@]}")
}

log() { printf '[run.sh %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
now_ns() { date +%s%N; }

# ---------------------------------------------------------------- preparation
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

if [ ! -f "$JAR" ] || [ ! -f "$ROOT/proxy-core/target/brainstorm-proxy.jar" ]; then
  log "building (./mvnw -B -q -DskipTests install)"
  ./mvnw -B -q -DskipTests install
fi

if ! command -v nginx >/dev/null 2>&1; then
  log "installing nginx"
  { apt-get update -qq \
    && { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null \
      || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; }; } || true
fi
if NGINX="$(command -v nginx)"; then
  TARGETS="direct nginx gateway"
else
  log "nginx is missing and could not be installed: the nginx rows stay empty"
  NGINX=""
  TARGETS="direct gateway"
fi

for port in $SIM_PORT $NGINX_PORT $GW_PORT $ADMIN_PORT; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "run.sh: port $port is in use; stop whatever listens there first" >&2
    exit 1
  fi
done

# The same body for all three targets: the gateway resolves "alpha" through its catalog alias.
BODY_PREFIX='{"model":"alpha","messages":[{"role":"system","content":"You are a concise assistant for an online bookshop. Answer in the customer'"'"'s language, cite the order number when there is one, and never promise delivery dates you cannot see in the order data."},{"role":"user","content":"Hi, I ordered two books last week (order 48213) and only one arrived. The parcel looked fine. What should I do?"},{"role":"assistant","content":"Sorry about that! Order 48213 was shipped in two parcels; the second one left our warehouse two days after the first. Could you tell me which title you are still waiting for?"},{"role":"user","content":"It is '"'"'The Pragmatic Programmer'"'"'. Can you check where it is and whether I can still change the delivery address to my office?"}],"temperature":0.7,"top_p":1,"max_tokens":256,"n":1,"presence_penalty":0,"frequency_penalty":0,"user":"customer-48213"'
printf '%s}' "$BODY_PREFIX" >"$TMP/body.json"
printf '%s,"stream":true,"stream_options":{"include_usage":true}}' "$BODY_PREFIX" >"$TMP/stream.json"

# Polls URL (GET, or POST with the body when $3 is a file) until it answers 200; bounded.
wait_200() {
  local url="$1" auth="${2:-}" body="${3:-}" i
  for i in $(seq 1 1000); do
    if [ -n "$body" ]; then
      code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 -H "Authorization: Bearer $auth" \
        -H 'Content-Type: application/json' --data-binary "@$body" "$url" || true)"
    else
      code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" || true)"
    fi
    [ "$code" = 200 ] && return 0
    sleep 0.005
  done
  echo "run.sh: $url never answered 200" >&2
  return 1
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# utime + stime of a process and its threads, in clock ticks
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
nginx_pids() { [ -z "$NGINX_PID" ] || echo "$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')"; }
sum_over() { local f="$1" s=0 p; shift; for p in "$@"; do s=$((s + $($f "$p"))); done; echo "$s"; }
CLK_TCK="$(getconf CLK_TCK)"

# ---------------------------------------------------------------- JMH
JMH_CMD="java -jar benchmarks/target/benchmarks.jar -foe true"
JMH_TABLE="(skipped: JMH=0)"
if [ "$JMH" = 1 ]; then
  log "JMH: $JMH_CMD"
  $JMH_CMD >"$TMP/jmh.txt" 2>&1 || { tail -40 "$TMP/jmh.txt" >&2; exit 1; }
  JMH_TABLE="$(sed -n '/^Benchmark /,$p' "$TMP/jmh.txt")"
  echo "$JMH_TABLE" >&2
fi

# ---------------------------------------------------------------- servers
url_of() {
  case "$1" in
    direct) echo "http://127.0.0.1:$SIM_PORT/sim-east/v1/chat/completions" ;;
    nginx) echo "http://127.0.0.1:$NGINX_PORT/sim-east/v1/chat/completions" ;;
    gateway) echo "http://127.0.0.1:$GW_PORT/v1/chat/completions" ;;
  esac
}
key_of() { [ "$1" = gateway ] && echo "$BENCH_KEY" || echo sim-key; }
proxy_pids_of() {
  case "$1" in
    direct) echo "" ;;
    nginx) nginx_pids ;;
    gateway) echo "$GW_PID" ;;
  esac
}

log "starting the zero-delay sim on core $LOAD_CORE, port $SIM_PORT"
taskset -c "$LOAD_CORE" bin/brainstorm-proxy sim --zero-delay --port "$SIM_PORT" >"$TMP/sim.log" 2>&1 &
SIM_PID=$!
PIDS+=("$SIM_PID")
wait_200 "http://127.0.0.1:$SIM_PORT/sim-east/v1/chat/completions" sim-key "$TMP/body.json"
if [ "$UPSTREAM" = canned ]; then
  # The sim parses every request and builds its answer; at 64+ connections that made the load core
  # the limit. Its two answers to this benchmark's bodies, recorded once, are served as bytes instead.
  log "recording the sim's answers; the canned upstream serves them on core $LOAD_CORE, port $SIM_PORT"
  for kind in plain stream; do
    accept=application/json
    [ "$kind" = stream ] && accept=text/event-stream
    curl -s -i --raw --max-time 10 -H 'Authorization: Bearer sim-key' -H 'Content-Type: application/json' \
      -H "Accept: $accept" --data-binary "@$TMP/$( [ "$kind" = stream ] && echo stream || echo body).json" \
      "http://127.0.0.1:$SIM_PORT/sim-east/v1/chat/completions" >"$TMP/$kind.http"
  done
  stop_pid "$SIM_PID"
  taskset -c "$LOAD_CORE" java -Xms64m -Xmx64m -XX:+UseSerialGC -cp "$JAR" io.brainstorm.proxy.bench.CannedUpstream \
    --port "$SIM_PORT" --plain "$TMP/plain.http" --stream "$TMP/stream.http" >"$TMP/canned.log" 2>&1 &
  SIM_PID=$!
  PIDS+=("$SIM_PID")
  wait_200 "http://127.0.0.1:$SIM_PORT/sim-east/v1/chat/completions" sim-key "$TMP/body.json" \
    || { cat "$TMP/canned.log" >&2; exit 1; }
fi

# The generator as run.sh runs it, on the load core: load_gen ARGS... (RESULT and SERIES lines on stdout)
load_gen() {
  taskset -c "$LOAD_CORE" java -Xms256m -Xmx256m -XX:+UseParallelGC -cp "$JAR" \
    io.brainstorm.proxy.bench.LoadGenerator "$@" 2>>"$TMP/load.log"
}

# Sidecar mode's warm-up curve, in two steps: curve_begin TARGET AWAIT_URL starts a 64-connection
# load that first warms the generator itself against the sim (3 s), then waits (polling AWAIT_URL
# every 5 ms) for the target to be ready and runs CURVE seconds, counting answers per second; it
# returns once the generator waits, so the target can be started then. curve_end TARGET waits for
# the load and keeps its SERIES lines.
curve_begin() {
  log "warm-up curve: $1, 64 connections for ${CURVE}s from the first 200 of $2"
  load_gen --url "$(url_of "$1")" --key "$(key_of "$1")" --body-file "$TMP/body.json" --connections 64 \
    --warmup 0 --duration "$CURVE" --prewarm-url "$(url_of direct)" --prewarm-key sim-key \
    --await "$2" --series --label "curve-$1" >"$TMP/curve-$1.txt" &
  CURVE_PID=$!
  PIDS+=("$CURVE_PID")
  for _ in $(seq 1 600); do
    grep -q '^AWAITING' "$TMP/curve-$1.txt" 2>/dev/null && return 0
    kill -0 "$CURVE_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "run.sh: the warm-up curve's load generator never got ready" >&2
  tail -5 "$TMP/load.log" >&2
  exit 1
}
curve_end() {
  wait "$CURVE_PID" || log "warm-up curve of $1: the load generator failed (see its lines below)"
  forget_pid "$CURVE_PID"
  sed -n 's/^SERIES second=\([0-9]*\) ok=\([0-9]*\)$/\1\t\2/p' "$TMP/curve-$1.txt" >"$TMP/curve-$1.tsv"
  [ -s "$TMP/curve-$1.tsv" ] || tail -5 "$TMP/load.log" >&2
}

NGINX_PID=""
if [ -n "$NGINX" ]; then
  log "starting nginx on core $PROXY_CORE, port $NGINX_PORT"
  mkdir -p "$TMP/nginx"
  cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
worker_rlimit_nofile 65536;
events {
  worker_connections 16384;
}
http {
  access_log off;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  keepalive_timeout 300s;
  keepalive_requests 10000000;
  upstream sim {
    server 127.0.0.1:$SIM_PORT;
    keepalive 64;
    keepalive_requests 10000000;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=4096;
    location / {
      proxy_pass http://sim;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
  taskset -c "$PROXY_CORE" "$NGINX" -e "$TMP/nginx/error.log" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" >"$TMP/nginx/stdout.log" 2>&1 &
  NGINX_PID=$!
  PIDS+=("$NGINX_PID")
  wait_200 "http://127.0.0.1:$NGINX_PORT/sim-east/v1/chat/completions" sim-key "$TMP/body.json"
  sleep 1
  # shellcheck disable=SC2046
  NGINX_IDLE_RSS_KB="$(sum_over rss_kb $(nginx_pids))"
  if [ "$MODE" = sidecar ]; then
    # the same generator conditions as the gateway's curve: started first, waiting for a 200
    curve_begin nginx "http://127.0.0.1:$NGINX_PORT/sim-east/v1/models"
    curve_end nginx
  fi
fi

# start_gateway STATE_DIR: launches the gateway through the launcher on the proxy core (GW_PID)
start_gateway() {
  mkdir -p "$1"
  export BENCH_STATE_DIR="$1"
  # shellcheck disable=SC2046
  taskset -c "$PROXY_CORE" bin/brainstorm-proxy --config benchmarks/load/bench.yaml \
    $( [ -n "$BR_THREADS" ] && echo "--threads $BR_THREADS") >>"$TMP/gateway.log" 2>&1 &
  GW_PID=$!
  PIDS+=("$GW_PID")
}

# The launcher records its class-data archive (or AOT cache) on its first launch after a build:
# done here, untimed, so that the start-up below is an ordinary start.
bin/brainstorm-proxy version >/dev/null 2>&1 || true

log "starting the gateway on core $PROXY_CORE, port $GW_PORT (${BR_THREADS:+--threads $BR_THREADS}${BR_THREADS:-launcher defaults})"
t0="$(now_ns)"
start_gateway "$TMP/state"
healthz_ms=""
readyz_ms=""
for _ in $(seq 1 2000); do
  if [ -z "$healthz_ms" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$GW_PORT/healthz" || true)" = 200 ]; then
    healthz_ms=$((($(now_ns) - t0) / 1000000))
  fi
  if [ -n "$healthz_ms" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$GW_PORT/readyz" || true)" = 200 ]; then
    readyz_ms=$((($(now_ns) - t0) / 1000000))
    break
  fi
  kill -0 "$GW_PID" 2>/dev/null || { cat "$TMP/gateway.log" >&2; exit 1; }
  sleep 0.005
done
[ -n "$readyz_ms" ] || { echo "run.sh: the gateway never became ready" >&2; cat "$TMP/gateway.log" >&2; exit 1; }
# What a bare JVM start costs, for scale: the floor under the gateway's start-up.
t1="$(now_ns)"
java -Xshare:auto -version >/dev/null 2>&1
java_version_ms=$((($(now_ns) - t1) / 1000000))
sleep 2
GW_IDLE_RSS_KB="$(rss_kb "$GW_PID")"
log "gateway: /healthz after $healthz_ms ms, /readyz after $readyz_ms ms, idle RSS $((GW_IDLE_RSS_KB / 1024)) MB"

SCRAPER_PID=""
if [ "$MODE" = sidecar ]; then
  # A second start, from a fresh state directory, for the warm-up curve: the load waits for the
  # first /readyz 200. The gateway of this start serves the measured rounds below.
  stop_pid "$GW_PID"
  curve_begin gateway "http://127.0.0.1:$GW_PORT/readyz"
  # Prometheus and a dashboard: /metrics and the dashboard's stats once a second, on the load core
  # shellcheck disable=SC2016
  taskset -c "$LOAD_CORE" bash -c 'while :; do
      curl -s -o /dev/null -w "%{http_code} metrics\n" --max-time 2 "http://127.0.0.1:$1/metrics"
      curl -s -o /dev/null -w "%{http_code} stats\n" --max-time 2 -H "Authorization: Bearer $2" \
        "http://127.0.0.1:$1/admin/v1/stats/models"
      sleep 1
    done' scraper "$ADMIN_PORT" "$BR_ADMIN_TOKEN" >"$TMP/scrapes.txt" 2>/dev/null &
  SCRAPER_PID=$!
  PIDS+=("$SCRAPER_PID")
  start_gateway "$TMP/state2"
  curve_end gateway
fi
wait_200 "http://127.0.0.1:$GW_PORT/v1/chat/completions" "$BENCH_KEY" "$TMP/body.json"

# ---------------------------------------------------------------- load
# run_load ROUND MODE CONNS TARGET BODYFILE: appends one line to results.tsv. CPU µs per request:
# the process's CPU time over the whole run (warm-up included) divided by every answer of the run;
# sim_us and gen_us are the load core's share (the sim's and the generator's own).
echo -e "round\tmode\tconns\ttarget\trps\tp50\tp90\tp99\tp999\terrors\tproxy_cpu_pct\tproxy_us\tsim_us\tgen_us\tgen_alloc" \
  >"$TMP/results.tsv"
run_load() {
  local round="$1" mode="$2" conns="$3" target="$4" body="$5" pids c0 c1 s0 s1 w0 w1 line
  # the streaming path is cold after the plain rounds: it gets three times the warm-up, every target alike
  local warmup="$WARMUP"
  if [ "$mode" = stream ]; then warmup=$((WARMUP * 3)); fi
  pids="$(proxy_pids_of "$target")"
  # shellcheck disable=SC2086
  c0="$( [ -n "$pids" ] && sum_over cpu_ticks $pids || echo 0)"
  s0="$(cpu_ticks "$SIM_PID")"
  w0="$(now_ns)"
  line="$(load_gen --url "$(url_of "$target")" --key "$(key_of "$target")" --body-file "$body" \
    --connections "$conns" --warmup "$warmup" --duration "$DURATION" --mode "$mode" --label "$target" \
    | grep '^RESULT' || true)"
  w1="$(now_ns)"
  # shellcheck disable=SC2086
  c1="$( [ -n "$pids" ] && sum_over cpu_ticks $pids || echo 0)"
  s1="$(cpu_ticks "$SIM_PID")"
  if [ -z "$line" ] || [ "$(echo "$line" | sed -n 's/.* ok=\([0-9]*\) .*/\1/p')" = 0 ]; then
    # no figures rather than zeros, which would enter the means and the differences
    echo "run.sh: load run $target c=$conns $mode got no answer" >&2
    tail -5 "$TMP/load.log" >&2
    local errs=-1
    [ -z "$line" ] || errs="$(echo "$line" | sed -n 's/.* errors=\([0-9]*\) .*/\1/p')"
    line="RESULT rps=- p50=- p90=- p99=- p999=- errors=$errs answered=0 self_cpu_us=- self_alloc_bytes=-"
  fi
  # shellcheck disable=SC2001
  get() { echo "$line" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
  local cpu_pct="-" cpu_us="-" answered sim_us
  answered="$(get answered)"
  per_request() { awk -v t="$1" -v hz="$CLK_TCK" -v n="$answered" 'BEGIN { if (n + 0 > 0) printf "%.1f", t / hz * 1e6 / n; else print "-" }'; }
  if [ -n "$pids" ]; then
    cpu_pct="$(awk -v t=$((c1 - c0)) -v hz="$CLK_TCK" -v ns=$((w1 - w0)) 'BEGIN {printf "%.0f", 100 * t / hz / (ns / 1e9)}')"
    cpu_us="$(per_request $((c1 - c0)))"
  fi
  sim_us="$(per_request $((s1 - s0)))"
  echo -e "$round\t$mode\t$conns\t$target\t$(get rps)\t$(get p50)\t$(get p90)\t$(get p99)\t$(get p999)\t$(get errors)\t$cpu_pct\t$cpu_us\t$sim_us\t$(get self_cpu_us)\t$(get self_alloc_bytes)" \
    | tee -a "$TMP/results.tsv" >&2
}

for round in $(seq 1 "$ROUNDS"); do
  for conns in $LEVELS; do
    for target in $TARGETS; do
      log "round $round/$ROUNDS: $target, $conns connections, ${WARMUP}s warm-up + ${DURATION}s"
      run_load "$round" plain "$conns" "$target" "$TMP/body.json"
    done
  done
done
for target in $TARGETS; do
  log "streaming: $target, 1 connection, $((WARMUP * 3))s warm-up + ${DURATION}s"
  run_load 1 stream 1 "$target" "$TMP/stream.json"
done

GW_RSS_KB="$(rss_kb "$GW_PID")"
# shellcheck disable=SC2046
NGINX_RSS_KB="$(sum_over rss_kb $(nginx_pids))"
[ -z "$SCRAPER_PID" ] || stop_pid "$SCRAPER_PID"

# ---------------------------------------------------------------- report
# Means over rounds per (mode, conns, target).
agg() {
  awk -F'\t' -v mode="$1" -v conns="$2" -v target="$3" -v col="$4" -v fmt="${5:-%.0f}" '
    NR > 1 && $2 == mode && $3 == conns && $4 == target && $col != "-" && $col != "" { s += $col; n++ }
    END { if (n) printf fmt, s / n; else printf "-" }' "$TMP/results.tsv"
}
sumcol() {
  awk -F'\t' -v mode="$1" -v conns="$2" -v target="$3" -v col="$4" '
    NR > 1 && $2 == mode && $3 == conns && $4 == target { s += $col } END { printf "%d", s }' "$TMP/results.tsv"
}
diff_us() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%+d", a - b }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
# stream_table [cpu]: the streaming round's table; "cpu" adds the proxy's CPU µs per stream
stream_table() {
  echo "| target | streams/s | TTFB p50 | TTFB p90 | TTFB p99 | added TTFB p50 | added TTFB p99 |${1:+ proxy CPU µs/stream |} errors |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |${1:+ ---: |} ---: |"
  for target in direct nginx gateway; do
    latency stream 1 "$target"
    echo "| $target | $(agg stream 1 "$target" 5) | $p50 | $(agg stream 1 "$target" 7) | $p99 | $a50 | $a99 |${1:+ $(agg stream 1 "$target" 12 %.1f) |} $(sumcol stream 1 "$target" 10) |"
  done
}
# latency MODE CONNS TARGET: sets p50 and p99 (means over rounds) and a50 and a99, what TARGET adds
# over direct ("-" for direct itself)
latency() {
  p50="$(agg "$1" "$2" "$3" 6)"; p99="$(agg "$1" "$2" "$3" 8)"
  a50="-"; a99="-"
  if [ "$3" != direct ]; then
    a50="$(diff_us "$p50" "$(agg "$1" "$2" direct 6)")"; a99="$(diff_us "$p99" "$(agg "$1" "$2" direct 8)")"
  fi
}

cpu_model="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
java_version="$(java -version 2>&1 | head -n1)"
nginx_version="$( [ -n "$NGINX" ] && "$NGINX" -v 2>&1 | sed 's/^nginx version: //' || echo "not installed")"
NGINX_IDLE_RSS_KB="${NGINX_IDLE_RSS_KB:-0}"
# A hand-written analysis below this marker in the old file survives a re-run (re-check it!).
MARKER='<!-- analysis: kept by run.sh; re-check it against the figures above -->'

if [ "$MODE" = sidecar ]; then
  # Sidecar mode writes one block into OUT: in place of its previous block, else right after the
  # analysis marker (so that a default run keeps it), else at the end; the rest of OUT is kept.
  SIDECAR_BEGIN='<!-- sidecar: begin; written by MODE=sidecar benchmarks/load/run.sh, replaced by its next run -->'
  SIDECAR_END='<!-- sidecar: end -->'
  java_major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
  warm_limit=30
  [ "${java_major:-17}" -ge 25 ] && warm_limit=10
  # verdict VALUE OP LIMIT: met / missed / - (no figure)
  verdict() {
    awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
      if (v == "-" || v == "") { print "-"; exit }
      ok = (op == "<=") ? (v + 0 <= l + 0) : (v + 0 >= l + 0)
      print ok ? "met" : "**missed**" }'
  }
  # to80 TARGET STEADY: the second of the warm-up curve in which the answers first reach 80 % of STEADY
  to80() {
    if [ ! -s "$TMP/curve-$1.tsv" ] || [ "$2" = "-" ]; then echo "-"; return; fi
    awk -F'\t' -v s="$2" '$2 >= 0.8 * s { print $1; found = 1; exit } END { if (!found) print "> " NR }' "$TMP/curve-$1.tsv"
  }
  curve_at() { awk -F'\t' -v n="$2" '$1 == n { print $2; found = 1 } END { if (!found) print "-" }' "$TMP/curve-$1.tsv" 2>/dev/null || echo "-"; }
  steady_g="$(agg plain 64 gateway 5)"; steady_n="$(agg plain 64 nginx 5)"
  warm_g="$(to80 gateway "$steady_g")"; warm_n="$(to80 nginx "$steady_n")"
  rps_ratio="$(ratio "$steady_g" "$steady_n")"
  cpu_g="$(agg plain 64 gateway 12 %.1f)"; cpu_n="$(agg plain 64 nginx 12 %.1f)"
  cpu_ratio="$(ratio "$cpu_g" "$cpu_n")"
  latency plain 1 gateway; added99="$a99"
  latency stream 1 gateway; ttfb99="$a99"
  scrapes_ok="$(grep -c '^200 ' "$TMP/scrapes.txt" 2>/dev/null || true)"
  scrapes_bad="$(grep -vc '^200 ' "$TMP/scrapes.txt" 2>/dev/null || true)"
  {
    echo "$SIDECAR_BEGIN"
    echo
    echo "## Sidecar mode (\`MODE=sidecar\`, $(date -u '+%Y-%m-%d %H:%M UTC'))"
    echo
    echo "| | |"
    echo "| --- | --- |"
    echo "| command | \`MODE=sidecar DURATION=$DURATION WARMUP=$WARMUP ROUNDS=$ROUNDS LEVELS=\"$LEVELS\" CURVE=$CURVE UPSTREAM=$UPSTREAM${BR_THREADS:+ BR_THREADS=$BR_THREADS} benchmarks/load/run.sh\` |"
    echo "| upstream | $( [ "$UPSTREAM" = canned ] && echo "CannedUpstream: the zero-delay sim's answers to the two bodies, recorded at the start, served as bytes" || echo "the zero-delay sim") |"
    echo "| machine | $(nproc) CPUs, $cpu_model, $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo) RAM, $(uname -sr) |"
    echo "| java | $java_version |"
    echo "| nginx | $nginx_version, 1 worker, upstream keepalive 64 |"
    echo "| gateway | \`bin/brainstorm-proxy --config benchmarks/load/bench.yaml${BR_THREADS:+ --threads $BR_THREADS}\` (the launcher's default JVM flags and thread counts), a key with a daily budget and rate limits, audit with \`fsync: batch\`, scoring, admin listener with the dashboard's stats; \`/metrics\` and \`/admin/v1/stats/models\` scraped once a second from the second start on ($scrapes_ok answered 200, $scrapes_bad did not, those before the admin listener was up included) |"
    echo "| pinning | upstream, load generator and scraper on core $LOAD_CORE; nginx and the gateway on core $PROXY_CORE |"
    echo "| load | closed loop, N keep-alive HTTP/1.1 connections, the same $(wc -c <"$TMP/body.json")-byte chat body to every target; ${WARMUP}s warm-up, ${DURATION}s measured, $ROUNDS rounds, figures are the mean of the rounds |"
    echo
    echo "### Against the sidecar targets"
    echo
    echo "| target | measured | verdict |"
    echo "| --- | ---: | --- |"
    echo "| req/s ≥ 0.8× nginx at 64 connections | $rps_ratio× ($steady_g vs $steady_n req/s) | $(verdict "$rps_ratio" ">=" 0.8) |"
    echo "| CPU per request ≤ 1.25× nginx's (64 connections) | $cpu_ratio× ($cpu_g vs $cpu_n µs) | $(verdict "$cpu_ratio" "<=" 1.25) |"
    echo "| added p99 ≤ 80 µs at 1 connection | $added99 µs | $(verdict "$added99" "<=" 80) |"
    echo "| streaming TTFB added p99 ≤ 200 µs | $ttfb99 µs | $(verdict "$ttfb99" "<=" 200) |"
    echo "| ≥ 80 % of steady state within $warm_limit s of the first request (JDK $java_major) | second $warm_g (nginx: $warm_n) | $(verdict "${warm_g#> }" "<=" "$( [ "${warm_g#> }" = "$warm_g" ] && echo "$warm_limit" || echo -1)") |"
    echo "| idle RSS ≤ 128 MB | $((GW_IDLE_RSS_KB / 1024)) MB | $(verdict $((GW_IDLE_RSS_KB / 1024)) "<=" 128) |"
    echo "| RSS after load ≤ 192 MB | $((GW_RSS_KB / 1024)) MB | $(verdict $((GW_RSS_KB / 1024)) "<=" 192) |"
    echo
    echo "### Throughput, latency and CPU per request (non-streaming)"
    echo
    echo "Latency in µs, request written → last byte read; *added* is over direct. *CPU µs/req*: the proxy's"
    echo "CPU time over the run (warm-up included) ÷ every answer of the run. *load core*: the upstream's and the"
    echo "generator's CPU µs per request, and how busy that makes core $LOAD_CORE (near 100 %: the load core, not the proxy, limits req/s)."
    echo
    echo "| conns | target | req/s | p50 | p99 | added p50 | added p99 | proxy CPU | CPU µs/req | upstream µs/req | generator µs/req (B/req) | load core busy | errors |"
    echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for conns in $LEVELS; do
      for target in direct nginx gateway; do
        latency plain "$conns" "$target"
        rps="$(agg plain "$conns" "$target" 5)"; sim_us="$(agg plain "$conns" "$target" 13 %.1f)"; gen_us="$(agg plain "$conns" "$target" 14 %.1f)"
        cpu="-"; cpu_us="-"
        if [ "$target" != direct ]; then
          cpu="$(agg plain "$conns" "$target" 11 %.0f%%)"; cpu_us="$(agg plain "$conns" "$target" 12 %.1f)"
        fi
        busy="$(awk -v a="$sim_us" -v b="$gen_us" -v r="$rps" 'BEGIN { if (a == "-" || b == "-" || r == "-") print "-"; else printf "%.0f%%", (a + b) * r / 1e4 }')"
        echo "| $conns | $target | $rps | $p50 | $p99 | $a50 | $a99 | $cpu | $cpu_us | $sim_us | $gen_us ($(agg plain "$conns" "$target" 15)) | $busy | $(sumcol plain "$conns" "$target" 10) |"
      done
    done
    echo
    echo "### Streaming (\`stream: true\`, 1 connection)"
    echo
    echo "Time to the first body byte, µs; $((WARMUP * 3))s warm-up, ${DURATION}s measured, one round."
    echo
    stream_table cpu
    echo
    echo "### Start-up and memory"
    echo
    echo "| | gateway | nginx |"
    echo "| --- | ---: | ---: |"
    echo "| launch → \`/healthz\` 200 (polled every 5 ms; the first start) | $healthz_ms ms | |"
    echo "| launch → \`/readyz\` 200 | $readyz_ms ms | |"
    echo "| a bare \`java -version\`, for scale | $java_version_ms ms | |"
    echo "| idle RSS (gateway: 2 s after ready, first start; nginx: master + worker) | $((GW_IDLE_RSS_KB / 1024)) MB | $((NGINX_IDLE_RSS_KB / 1024)) MB |"
    echo "| RSS after the warm-up curve and all load runs | $((GW_RSS_KB / 1024)) MB | $((NGINX_RSS_KB / 1024)) MB |"
    echo
    echo "### Warm-up curve"
    echo
    echo "Answers per second at 64 connections from the first moment the target was ready: the generator,"
    echo "warmed against the sim first, waits for the first 200 (gateway: a second start from a fresh state"
    echo "directory, the load begins at its first \`/readyz\` 200; nginx: already running, for comparison: the"
    echo "curve of a proxy with nothing to warm up, i.e. of the load side). Steady state: the mean req/s of the"
    echo "64-connection rounds above, gateway $steady_g, nginx $steady_n; 80 % of it first reached in second"
    echo "$warm_g (gateway) and $warm_n (nginx)."
    echo
    echo "| second | gateway req/s | nginx req/s |"
    echo "| ---: | ---: | ---: |"
    for sec in $(seq 1 "$CURVE"); do
      echo "| $sec | $(curve_at gateway "$sec") | $(curve_at nginx "$sec") |"
    done
    echo
    echo "### Every run"
    echo
    echo "| round | mode | conns | target | req/s | p50 µs | p90 µs | p99 µs | p99.9 µs | errors | proxy CPU % | proxy µs/req | upstream µs/req | generator µs/req | generator B/req |"
    echo "| ---: | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    awk -F'\t' 'NR > 1 { line = $1; for (i = 2; i <= NF; i++) line = line " | " $i; printf "| %s |\n", line }' "$TMP/results.tsv"
    echo
    echo "$SIDECAR_END"
  } >"$TMP/block.md"
  if [ -f "$OUT" ] && grep -qF "$SIDECAR_BEGIN" "$OUT" && grep -qF "$SIDECAR_END" "$OUT"; then
    awk -v b="$SIDECAR_BEGIN" -v e="$SIDECAR_END" -v f="$TMP/block.md" '
      $0 == b { while ((getline l < f) > 0) print l; skip = 1; next }
      $0 == e { skip = 0; next }
      !skip' "$OUT" >"$TMP/out.md"
  elif [ -f "$OUT" ] && grep -qF "$MARKER" "$OUT"; then
    awk -v m="$MARKER" -v f="$TMP/block.md" '
      { print }
      $0 == m && !done { print ""; while ((getline l < f) > 0) print l; done = 1 }' "$OUT" >"$TMP/out.md"
  elif [ -f "$OUT" ]; then
    { cat "$OUT"; echo; cat "$TMP/block.md"; } >"$TMP/out.md"
  else
    { echo "# Benchmark results"; echo; cat "$TMP/block.md"; } >"$TMP/out.md"
  fi
  cp "$TMP/out.md" "$OUT"
  cat "$TMP/block.md"
  log "written to $OUT"
  exit 0
fi

{
  echo "# Benchmark results"
  echo
  echo "Written by \`benchmarks/load/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo
  echo "| | |"
  echo "| --- | --- |"
  echo "| machine | $(nproc) CPUs, $cpu_model, $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo) RAM, $(uname -sr) |"
  echo "| java | $java_version |"
  echo "| nginx | $nginx_version, 1 worker, upstream keepalive 64 |"
  echo "| command | \`DURATION=$DURATION WARMUP=$WARMUP ROUNDS=$ROUNDS LEVELS=\"$LEVELS\" BR_THREADS=$BR_THREADS benchmarks/load/run.sh\` |"
  echo "| pinning | sim + load generator on core $LOAD_CORE; nginx / gateway on core $PROXY_CORE |"
  echo "| load | closed loop, N keep-alive HTTP/1.1 connections, the same $(wc -c <"$TMP/body.json")-byte chat body to all three targets; ${WARMUP}s warm-up, ${DURATION}s measured, $ROUNDS rounds, figures are the mean of the rounds |"
  echo
  echo "## Throughput and latency (non-streaming chat completions)"
  echo
  echo "Latency in µs from writing the request to reading the last byte of the answer. *added* is over"
  echo "direct; *proxy CPU* is the proxy process's CPU time over the run's wall time (100% = its core is saturated)."
  echo
  echo "| conns | target | req/s | p50 µs | p90 µs | p99 µs | p99.9 µs | added p50 µs | added p99 µs | errors | proxy CPU |"
  echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for conns in $LEVELS; do
    d50="$(agg plain "$conns" direct 6)"
    d99="$(agg plain "$conns" direct 8)"
    for target in direct nginx gateway; do
      p50="$(agg plain "$conns" "$target" 6)"
      p99="$(agg plain "$conns" "$target" 8)"
      a50="-"; a99="-"; cpu="-"
      if [ "$target" != direct ]; then
        a50="$(diff_us "$p50" "$d50")"; a99="$(diff_us "$p99" "$d99")"; cpu="$(agg plain "$conns" "$target" 11)%"
      fi
      echo "| $conns | $target | $(agg plain "$conns" "$target" 5) | $p50 | $(agg plain "$conns" "$target" 7) | $p99 | $(agg plain "$conns" "$target" 9) | $a50 | $a99 | $(sumcol plain "$conns" "$target" 10) | $cpu |"
    done
  done
  echo
  echo "| conns | gateway / nginx req/s | gateway / direct req/s | nginx / direct req/s |"
  echo "| ---: | ---: | ---: | ---: |"
  for conns in $LEVELS; do
    g="$(agg plain "$conns" gateway 5)"; n="$(agg plain "$conns" nginx 5)"; d="$(agg plain "$conns" direct 5)"
    echo "| $conns | $(ratio "$g" "$n") | $(ratio "$g" "$d") | $(ratio "$n" "$d") |"
  done
  echo
  echo "## Streaming (\`stream: true\`, 1 connection)"
  echo
  echo "Time to first byte of the body (the first SSE bytes), µs; $((WARMUP * 3))s warm-up (the streaming path is cold after the plain rounds), ${DURATION}s measured, one round."
  echo
  stream_table
  echo
  echo "## Start-up and memory"
  echo
  echo "| | gateway | nginx |"
  echo "| --- | ---: | ---: |"
  echo "| launch → \`/healthz\` 200 (polled every 5 ms) | $healthz_ms ms | |"
  echo "| launch → \`/readyz\` 200 | $readyz_ms ms | |"
  echo "| a bare \`java -version\` (the JVM's own start, for scale) | $java_version_ms ms | |"
  echo "| idle RSS (2 s after ready, before any load) | $((GW_IDLE_RSS_KB / 1024)) MB | |"
  echo "| RSS after the load runs (VmRSS; nginx: master + worker) | $((GW_RSS_KB / 1024)) MB | $((NGINX_RSS_KB / 1024)) MB |"
  echo
  echo "## JMH"
  echo
  echo "Command: \`$JMH_CMD\` (all benchmarks, @Fork(1), short iterations; scores in ns per operation, SseRelay per event)."
  echo
  echo '```'
  echo "$JMH_TABLE"
  echo '```'
  echo
  echo "## Every run"
  echo
  echo "| round | mode | conns | target | req/s | p50 µs | p90 µs | p99 µs | p99.9 µs | errors | proxy CPU % |"
  echo "| ---: | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  awk -F'\t' 'NR > 1 { printf "| %s |\n", $1 " | " $2 " | " $3 " | " $4 " | " $5 " | " $6 " | " $7 " | " $8 " | " $9 " | " $10 " | " $11 }' "$TMP/results.tsv"
} >"$TMP/report.md"

if [ -f "$OUT" ] && grep -qF "$MARKER" "$OUT"; then
  { echo; sed -n "/^$MARKER\$/,\$p" "$OUT"; } >>"$TMP/report.md"
fi
cp "$TMP/report.md" "$OUT"
cat "$TMP/report.md"
log "written to $OUT"
