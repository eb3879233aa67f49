#!/usr/bin/env bash
# End-to-end load benchmark (targets in benchmarks/README.md): the same closed-loop load, on loopback, against
#   direct   load generator -> zero-delay sim
#   nginx    load generator -> nginx proxy_pass -> sim
#   gateway  load generator -> brainstorm-proxy -> sim
# with the sim and the load generator pinned to core 0 and nginx / the gateway to core 1.
# Also: JMH micro-benchmarks, gateway start-up time, idle and loaded RSS, and a streaming round.
# Prints a markdown report and writes it to benchmarks/RESULTS.md.
#
# Environment (defaults in brackets):
#   DURATION [10]  measured seconds per run       WARMUP [5]  warm-up seconds per run
#   ROUNDS   [2]   rounds of every target          LEVELS ["1 64 256"]  connection counts
#   JMH      [1]   0 skips the JMH run             BR_THREADS [1]  gateway event loops (nginx: 1 worker)
#   OUT      [benchmarks/RESULTS.md]               BENCH_CORES ["0 1"]  load/sim core, proxy core
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-5}"
ROUNDS="${ROUNDS:-2}"
LEVELS="${LEVELS:-1 64 256}"
JMH="${JMH:-1}"
BR_THREADS="${BR_THREADS:-1}"
OUT="${OUT:-$ROOT/benchmarks/RESULTS.md}"
read -r LOAD_CORE PROXY_CORE <<<"${BENCH_CORES:-0 1}"

SIM_PORT=19090
NGINX_PORT=19091
GW_PORT=19092
BENCH_KEY=br_live_benchonly0123456789abcdefghijklm   # benchmark-only, see benchmarks/load/bench.yaml
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
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null \
    || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
fi
NGINX="$(command -v nginx)"

for port in $SIM_PORT $NGINX_PORT $GW_PORT; do
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
nginx_pids() { echo "$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')"; }
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
log "starting the zero-delay sim on core $LOAD_CORE, port $SIM_PORT"
taskset -c "$LOAD_CORE" bin/brainstorm-proxy sim --zero-delay --port "$SIM_PORT" >"$TMP/sim.log" 2>&1 &
SIM_PID=$!
PIDS+=("$SIM_PID")
wait_200 "http://127.0.0.1:$SIM_PORT/sim-east/v1/chat/completions" sim-key "$TMP/body.json"

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

log "starting the gateway on core $PROXY_CORE, port $GW_PORT (--threads $BR_THREADS)"
mkdir -p "$TMP/state"
export BENCH_STATE_DIR="$TMP/state"
t0="$(now_ns)"
taskset -c "$PROXY_CORE" bin/brainstorm-proxy --config benchmarks/load/bench.yaml --threads "$BR_THREADS" \
  >"$TMP/gateway.log" 2>&1 &
GW_PID=$!
PIDS+=("$GW_PID")
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
wait_200 "http://127.0.0.1:$GW_PORT/v1/chat/completions" "$BENCH_KEY" "$TMP/body.json"

# ---------------------------------------------------------------- load
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

# run_load ROUND MODE CONNS TARGET BODYFILE: appends one line to results.tsv
echo -e "round\tmode\tconns\ttarget\trps\tp50\tp90\tp99\tp999\terrors\tproxy_cpu_pct" >"$TMP/results.tsv"
run_load() {
  local round="$1" mode="$2" conns="$3" target="$4" body="$5" pids c0 c1 w0 w1 line
  # the streaming path is cold after the plain rounds: it gets three times the warm-up, every target alike
  local warmup="$WARMUP"
  if [ "$mode" = stream ]; then warmup=$((WARMUP * 3)); fi
  pids="$(proxy_pids_of "$target")"
  # shellcheck disable=SC2086
  c0="$( [ -n "$pids" ] && sum_over cpu_ticks $pids || echo 0)"
  w0="$(now_ns)"
  line="$(taskset -c "$LOAD_CORE" java -Xms256m -Xmx256m -XX:+UseParallelGC -cp "$JAR" \
    io.brainstorm.proxy.bench.LoadGenerator --url "$(url_of "$target")" --key "$(key_of "$target")" \
    --body-file "$body" --connections "$conns" --warmup "$warmup" --duration "$DURATION" --mode "$mode" \
    --label "$target" 2>>"$TMP/load.log" | grep '^RESULT' || true)"
  w1="$(now_ns)"
  # shellcheck disable=SC2086
  c1="$( [ -n "$pids" ] && sum_over cpu_ticks $pids || echo 0)"
  if [ -z "$line" ]; then
    echo "run.sh: load run $target c=$conns $mode produced no result" >&2
    tail -5 "$TMP/load.log" >&2
    line="RESULT rps=0 p50=0 p90=0 p99=0 p999=0 errors=-1"
  fi
  local cpu_pct="-"
  if [ -n "$pids" ]; then
    cpu_pct="$(awk -v t=$((c1 - c0)) -v hz="$CLK_TCK" -v ns=$((w1 - w0)) 'BEGIN {printf "%.0f", 100 * t / hz / (ns / 1e9)}')"
  fi
  # shellcheck disable=SC2001
  get() { echo "$line" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
  echo -e "$round\t$mode\t$conns\t$target\t$(get rps)\t$(get p50)\t$(get p90)\t$(get p99)\t$(get p999)\t$(get errors)\t$cpu_pct" \
    | tee -a "$TMP/results.tsv" >&2
}

for round in $(seq 1 "$ROUNDS"); do
  for conns in $LEVELS; do
    for target in direct nginx gateway; do
      log "round $round/$ROUNDS: $target, $conns connections, ${WARMUP}s warm-up + ${DURATION}s"
      run_load "$round" plain "$conns" "$target" "$TMP/body.json"
    done
  done
done
for target in direct nginx gateway; do
  log "streaming: $target, 1 connection, $((WARMUP * 3))s warm-up + ${DURATION}s"
  run_load 1 stream 1 "$target" "$TMP/stream.json"
done

GW_RSS_KB="$(rss_kb "$GW_PID")"
# shellcheck disable=SC2046
NGINX_RSS_KB="$(sum_over rss_kb $(nginx_pids))"

# ---------------------------------------------------------------- report
# Means over rounds per (mode, conns, target).
agg() {
  awk -F'\t' -v mode="$1" -v conns="$2" -v target="$3" -v col="$4" '
    NR > 1 && $2 == mode && $3 == conns && $4 == target && $col != "-" { s += $col; n++ }
    END { if (n) printf "%.0f", s / n; else printf "-" }' "$TMP/results.tsv"
}
sumcol() {
  awk -F'\t' -v mode="$1" -v conns="$2" -v target="$3" -v col="$4" '
    NR > 1 && $2 == mode && $3 == conns && $4 == target { s += $col } END { printf "%d", s }' "$TMP/results.tsv"
}
diff_us() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%+d", a - b }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }

cpu_model="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
java_version="$(java -version 2>&1 | head -n1)"
nginx_version="$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')"
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
  echo "| target | streams/s | TTFB p50 | TTFB p90 | TTFB p99 | added TTFB p50 | added TTFB p99 | errors |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  s50="$(agg stream 1 direct 6)"; s99="$(agg stream 1 direct 8)"
  for target in direct nginx gateway; do
    p50="$(agg stream 1 "$target" 6)"; p99="$(agg stream 1 "$target" 8)"
    a50="-"; a99="-"
    [ "$target" != direct ] && { a50="$(diff_us "$p50" "$s50")"; a99="$(diff_us "$p99" "$s99")"; }
    echo "| $target | $(agg stream 1 "$target" 5) | $p50 | $(agg stream 1 "$target" 7) | $p99 | $a50 | $a99 | $(sumcol stream 1 "$target" 10) |"
  done
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

# A hand-written analysis below this marker in the old file survives a re-run (re-check it!).
MARKER='<!-- analysis: kept by run.sh; re-check it against the figures above -->'
if [ -f "$OUT" ] && grep -qF "$MARKER" "$OUT"; then
  { echo; sed -n "/^$MARKER\$/,\$p" "$OUT"; } >>"$TMP/report.md"
fi
cp "$TMP/report.md" "$OUT"
cat "$TMP/report.md"
log "written to $OUT"
