#!/usr/bin/env bash
# One-CPU load run: the gateway from JAR as its own JVM under `taskset -c 0` (a container with a
# one-CPU limit: two event loops on one core), with the admin listener, dashboard stats, /metrics,
# the audit trail and a budgeted key on, in front of an upstream that answers at once and never
# fails (in the load tool's own JVM, not pinned). 64 keep-alive connections of mixed plain and
# streamed chat; /healthz polled and /metrics + /admin/v1/stats/models scraped every second.
# Prints req/s for each second of the measured run, the 5xx count and a RESULT line; exits 1 on a
# 5xx or a /healthz poll unanswered for 5 s. The same run as proxy-core's OneCpuLoadTest. The RESULT
# line also gives the gateway's VmRSS at the end of the load and the first second that reached 80 %
# of the steady state (the mean of the last 10 s): with --warmup 0, the warm-up curve from the first
# request.
#
# With --store redis or both (issue 14), the script starts a redis-server of its own on a free port
# of loopback (a temporary directory, --save "" --appendonly no; pinned to REDIS_CPU, default 1 when
# there are two CPUs or more), gives the gateway `state_store: redis` on it, and kills it by its pid
# at the end; `both` runs the files store then the Redis store back to back, --rounds times, and
# prints a COMPARE line (req/s, p50/p99 latency, 5xx, gateway CPU per request, and the ratio).
# --rpm N gives the load's key that rate limit besides its daily budget, so that each request checks
# a rate window too (with Redis: a round trip for the window and one for the reservation).
#
# Usage: benchmarks/load/onecpu.sh [JAR | --launcher] [--connections N] [--warmup S] [--seconds S] [--cpu N]
#          [--store files|redis|both] [--rpm N] [--rounds N]
#   JAR         default proxy-core/target/brainstorm-proxy.jar (./mvnw -B -q -DskipTests -pl proxy-core -am package)
#   --launcher  start the gateway through bin/brainstorm-proxy (JAVA_HOME picks the JDK), with the
#               launcher's flags and its CDS archive (JDK 17-24) or AOT cache (25+), recorded first
#               if missing, so the figures are what a user starts; BR_JAVA_OPTS, BR_CDS, BR_AOT apply
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

JAR="$ROOT/proxy-core/target/brainstorm-proxy.jar"
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then
  JAR="$(readlink -f "$1")"
  shift
fi
args=()
store=files
prev=
for a in "$@"; do
  [ "$prev" = --store ] && store="$a"
  prev="$a"
  if [ "$a" = --launcher ]; then
    args+=(--launcher "$ROOT/bin/brainstorm-proxy")
    # the launcher records its CDS archive or AOT cache on first use: not inside the timed run
    "$ROOT/bin/brainstorm-proxy" version >/dev/null
  else
    args+=("$a")
  fi
done
if [ ! -f "$JAR" ]; then
  echo "onecpu.sh: no jar at $JAR; build it with ./mvnw -B -q -DskipTests -pl proxy-core -am package" >&2
  exit 1
fi
command -v taskset >/dev/null || { echo "onecpu.sh: taskset (util-linux) is needed" >&2; exit 1; }
# The load tool lives in proxy-core's test classes; it takes Netty and the key helpers from the jar.
if [ ! -f proxy-core/target/test-classes/io/brainstorm/proxy/e2e/OneCpuLoad.class ]; then
  ./mvnw -B -q -pl proxy-core -am test-compile >&2
fi

redis_pid=
redis_dir=
cleanup() {
  if [ -n "$redis_pid" ]; then
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
  fi
  if [ -n "$redis_dir" ]; then
    rm -rf "$redis_dir"
  fi
}
trap cleanup EXIT
if [ "$store" = redis ] || [ "$store" = both ]; then
  REDIS_SERVER="${BR_REDIS_SERVER:-$(command -v redis-server || true)}"
  if [ -z "$REDIS_SERVER" ] || [ ! -x "$REDIS_SERVER" ]; then
    echo "onecpu.sh: --store $store needs redis-server (Debian package redis-server, or BR_REDIS_SERVER)" >&2
    exit 1
  fi
  redis_dir="$(mktemp -d -t br-onecpu-redis.XXXXXX)"
  pin=()
  if [ "$(nproc)" -gt 1 ]; then
    pin=(taskset -c "${REDIS_CPU:-1}")
  fi
  # a port below the kernel's ephemeral range that nothing answers on; another one if the bind
  # fails all the same (a port taken between the check and the start)
  low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "$low" -gt 11000 ] || low=32768
  redis_pid=
  for attempt in 1 2 3 4 5; do
    for _ in $(seq 1 50); do
      redis_port=$((10000 + RANDOM % (low - 10000)))
      if ! { (exec 3<>"/dev/tcp/127.0.0.1/$redis_port"); } 2>/dev/null; then
        break
      fi
    done
    "${pin[@]}" "$REDIS_SERVER" --port "$redis_port" --bind 127.0.0.1 --dir "$redis_dir" \
      --save "" --appendonly no --daemonize no >"$redis_dir/redis-server.out" 2>&1 &
    redis_pid=$!
    up=
    for i in $(seq 1 200); do
      if { exec 3<>"/dev/tcp/127.0.0.1/$redis_port"; } 2>/dev/null; then
        printf 'PING\r\n' >&3
        pong=
        read -r -t 1 pong <&3 || true
        exec 3<&- 3>&-
        if [ "${pong%$'\r'}" = +PONG ]; then
          up=1
          break
        fi
      fi
      kill -0 "$redis_pid" 2>/dev/null || break
      sleep 0.05
    done
    [ -n "$up" ] && break
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
    redis_pid=
    if ! grep -q "Address already in use" "$redis_dir/redis-server.out" || [ "$attempt" = 5 ]; then
      echo "onecpu.sh: redis-server did not answer PING on port $redis_port:" >&2
      cat "$redis_dir/redis-server.out" >&2
      exit 1
    fi
  done
  echo "onecpu.sh: redis-server $("$REDIS_SERVER" --version | awk '{print $3}' | sed 's/^v=//') pid $redis_pid on 127.0.0.1:$redis_port${pin:+ (${pin[*]})}"
  args+=(--redis-url "redis://127.0.0.1:$redis_port/0" --redis-pid "$redis_pid")
fi
java -cp "proxy-core/target/test-classes:$JAR" io.brainstorm.proxy.e2e.OneCpuLoad --jar "$JAR" "${args[@]}"
