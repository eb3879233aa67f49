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
# Usage: benchmarks/load/onecpu.sh [JAR | --launcher] [--connections N] [--warmup S] [--seconds S] [--cpu N]
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
for a in "$@"; do
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
exec java -cp "proxy-core/target/test-classes:$JAR" io.brainstorm.proxy.e2e.OneCpuLoad --jar "$JAR" "${args[@]}"
