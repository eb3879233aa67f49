#!/usr/bin/env bash
# Start-up time and idle memory of the gateway as a sidecar runs it (targets in benchmarks/README.md: listening and
# /healthz in <= 0.5 s, /readyz in <= 1 s, idle RSS <= 128 MB with mapped state files counted apart).
#
#   benchmarks/startup.sh [RUNS]      (default 7 runs per state kind)
#
# Each run: `bin/brainstorm-proxy --port P --admin-port Q` with BR_STATE_DIR in a temp dir and
# BR_API_KEY, BR_ADMIN_TOKEN set; the clock starts just before the launcher; /healthz then /readyz
# are polled every 5 ms over bash's /dev/tcp (no process per poll), and the CPU time the process
# used until /readyz is noted (steadier than wall time on a shared box); IDLE_SECONDS after /readyz
# answers 200 the process's memory is read from /proc: VmRSS, its anonymous part (heap, metaspace,
# code cache, thread stacks, malloc), the resident pages of the mapped state files (*.cm3, from
# smaps) and the other file pages (jar, libjvm, CDS archive). Then SIGTERM.
#   STATES="fresh existing"  fresh: a new state directory per run; existing: one made by a first,
#                            uncounted start and reused
#   JAVA_HOME                the JDK (else `java` on PATH); the launcher's CDS archive (AOT cache on 25+) is
#                            recorded by an uncounted first start
#   BR_JAVA_OPTS, BR_CDS     passed to the launcher
#   IDLE_SECONDS=3           wait after /readyz before reading memory
#   TRAFFIC=N                then send N API requests (half chat, half streamed, 16 at once, to the
#                            simulated provider), wait IDLE_SECONDS again and read VmRSS once more
#                            (the last column; 0 when TRAFFIC=0, the default). The gateway then runs
#                            with conf/brainstorm.yaml but random_faults: false, so that requests are
#                            relayed rather than refused by open circuit breakers
#   NMT=1                    also print `jcmd VM.native_memory summary` of the last run (adds
#                            -XX:NativeMemoryTracking=summary, which costs a few MB itself)
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS="${1:-7}"
STATES="${STATES:-fresh existing}"
IDLE_SECONDS="${IDLE_SECONDS:-3}"
TRAFFIC="${TRAFFIC:-0}"
NMT="${NMT:-0}"
TMP="$(mktemp -d /tmp/br-startup.XXXXXX)"
GW_PID=""
cleanup() {
  if [ -n "$GW_PID" ]; then kill "$GW_PID" 2>/dev/null || true; wait "$GW_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

export BR_API_KEY="br_live_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export BR_ADMIN_TOKEN="$(head -c 24 /dev/urandom | base64)"
if [ "$NMT" = 1 ]; then
  export BR_JAVA_OPTS="${BR_JAVA_OPTS:-} -XX:NativeMemoryTracking=summary"
fi
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
JDK="$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.version = //p')"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# HTTP status of GET http://127.0.0.1:$1$2, or 000 when nothing listens; no fork per call
status() {
  local line=""
  if { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null; then
    printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&3 2>/dev/null || true
    read -r -t 2 line <&3 2>/dev/null || true
    exec 3<&- 3>&-
  fi
  line="${line#HTTP/1.1 }"
  echo "${line:0:3}"
  [ -n "$line" ]
}

# resident kB of the process's mappings whose path ends in .cm3 (the state files)
cm3_kb() {
  awk '/^[0-9a-f]+-[0-9a-f]+ / { cm3 = ($NF ~ /\.cm3$/) } cm3 && /^Rss:/ { s += $2 } END { print s + 0 }' "/proc/$1/smaps"
}
# user + system CPU time of the process and its threads, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
CLK_TCK="$(getconf CLK_TCK)"
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# $2 API requests to the gateway on port $1 with key BR_API_KEY, 16 at a time; prints how they were
# answered (the simulated provider's random faults and rate limits make some 5xx and 429)
traffic() {
  python3 - "$1" "$2" <<'PY'
import http.client, json, os, sys, threading
port, n = int(sys.argv[1]), int(sys.argv[2])
key = os.environ["BR_API_KEY"]
codes, lock, left = {}, threading.Lock(), [n]
def worker():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while True:
        with lock:
            if left[0] == 0:
                return
            left[0] -= 1
            i = left[0]
        body = {"model": "sim/alpha", "messages": [{"role": "user", "content": "hello %d" % i}]}
        if i % 2:
            body["stream"] = True
        c.request("POST", "/v1/chat/completions", json.dumps(body),
                  {"Authorization": "Bearer " + key, "Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        with lock:
            codes[r.status] = codes.get(r.status, 0) + 1
ts = [threading.Thread(target=worker) for _ in range(16)]
for t in ts: t.start()
for t in ts: t.join()
print("  traffic: %d requests answered %s" % (n, dict(sorted(codes.items()))), file=sys.stderr)
sys.exit(0 if codes.get(200) else "traffic: no request answered 200")
PY
}

# one start: prints "healthz_ms readyz_ms rss_kb anon_kb cm3_kb file_kb threads load1 cpu_ms rss_after_traffic_kb"
one_run() {
  local state="$1" port admin t0 h="" r="" cpu="" st log="$TMP/gateway.log"
  port="$(free_port)"
  admin="$(free_port)"
  local config=()
  if [ "$TRAFFIC" -gt 0 ]; then
    config=(--config "$TMP/conf/brainstorm.yaml")
  fi
  t0="$(now_ms)"
  BR_STATE_DIR="$state" bin/brainstorm-proxy --port "$port" --admin-port "$admin" "${config[@]}" >"$log" 2>&1 &
  GW_PID=$!
  while [ -z "$r" ]; do
    if [ -z "$h" ]; then
      st="$(status "$port" /healthz || true)"
      [ "$st" = 200 ] && h=$(($(now_ms) - t0))
    fi
    if [ -n "$h" ]; then
      st="$(status "$port" /readyz || true)"
      if [ "$st" = 200 ]; then
        r=$(($(now_ms) - t0))
        cpu=$(($(cpu_ticks "$GW_PID") * 1000 / CLK_TCK))
      fi
    fi
    if ! kill -0 "$GW_PID" 2>/dev/null; then
      echo "startup.sh: the gateway exited" >&2; cat "$log" >&2; exit 1
    fi
    if [ $(($(now_ms) - t0)) -gt 60000 ]; then
      echo "startup.sh: not ready after 60 s" >&2; cat "$log" >&2; exit 1
    fi
    [ -n "$r" ] || sleep 0.005
  done
  sleep "$IDLE_SECONDS"
  local rss anon file shmem cm3 threads load1
  rss="$(status_kb "$GW_PID" VmRSS)"
  anon="$(status_kb "$GW_PID" RssAnon)"
  file="$(status_kb "$GW_PID" RssFile)"
  shmem="$(status_kb "$GW_PID" RssShmem)"
  threads="$(status_kb "$GW_PID" Threads)"
  cm3="$(cm3_kb "$GW_PID")"
  load1="$(cut -d' ' -f1 /proc/loadavg)"
  local after=0
  if [ "$TRAFFIC" -gt 0 ]; then
    traffic "$port" "$TRAFFIC" || { cat "$log" >&2; exit 1; }
    sleep "$IDLE_SECONDS"
    after="$(status_kb "$GW_PID" VmRSS)"
  fi
  if [ "$NMT" = 1 ]; then
    jcmd "$GW_PID" VM.native_memory summary >"$TMP/nmt.txt" 2>&1 || true
  fi
  kill "$GW_PID"
  wait "$GW_PID" 2>/dev/null || true
  GW_PID=""
  echo "$h $r $rss $anon $cm3 $((file + shmem - cm3)) $threads $load1 $cpu $after"
}

# median (min–max) of column $1 of the rows in $2, divided by $3, with $4 decimals
stat() {
  awk -v c="$1" -v d="${3:-1}" '{ print $c / d }' "$2" | sort -g | awk -v p="${4:-0}" '
    { v[NR] = $1 }
    END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
          f = "%." p "f"; printf f " (" f "–" f ")", m, v[1], v[NR] }'
}

mkdir -p "$TMP/conf"
cp conf/models.yaml "$TMP/conf/"
sed 's/^\( *random_faults:\) true/\1 false/' conf/brainstorm.yaml >"$TMP/conf/brainstorm.yaml"
echo "# JDK $JDK, $(nproc) cores, BR_CDS=${BR_CDS:-1}, BR_JAVA_OPTS='${BR_JAVA_OPTS:-}', $(date -u +%FT%TZ)" >&2
# uncounted: records the launcher's CDS archive for this JDK (if enabled) and makes the existing state
mkdir -p "$TMP/existing"
one_run "$TMP/existing" >/dev/null
echo "| JDK | state | /healthz ms | /readyz ms | CPU ms to /readyz | idle RSS MB | anonymous MB | state files MB | other files MB | threads | load (1 min) | RSS MB after $TRAFFIC requests |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for kind in $STATES; do
  : >"$TMP/rows"
  for i in $(seq 1 "$RUNS"); do
    if [ "$kind" = fresh ]; then
      dir="$TMP/fresh-$i"
    else
      dir="$TMP/existing"
    fi
    row="$(one_run "$dir")"
    echo "  $kind run $i: $row" >&2
    echo "$row" >>"$TMP/rows"
  done
  echo "| $JDK | $kind | $(stat 1 "$TMP/rows") | $(stat 2 "$TMP/rows") | $(stat 9 "$TMP/rows") | $(stat 3 "$TMP/rows" 1024) | $(stat 4 "$TMP/rows" 1024) | $(stat 5 "$TMP/rows" 1024) | $(stat 6 "$TMP/rows" 1024) | $(stat 7 "$TMP/rows") | $(stat 8 "$TMP/rows" 1 1) | $(stat 10 "$TMP/rows" 1024) |"
done
if [ "$NMT" = 1 ]; then
  sed -n '/^Total/,/^$/p;/^-/p' "$TMP/nmt.txt" | grep -v '^ *$' >&2 || cat "$TMP/nmt.txt" >&2
fi
