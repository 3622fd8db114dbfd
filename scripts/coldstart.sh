#!/usr/bin/env bash
# scripts/coldstart.sh [COUNT [OUT]]: start each Lambda function COUNT times (default 10) under the
# Lambda RIE, native build (this host cannot run arm64), and print each start's init phase and
# the median per function; make bench runs it. Results go to OUT/coldstart.txt (build/bench).
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-10}
out=${2:-build/bench}
mkdir -p "$out"
echo "cold start: native linux/$(go env GOARCH) build, $count starts per function, load $(cut -d' ' -f1-3 /proc/loadavg)"
rie=.bin/aws-lambda-rie
if [ ! -x "$rie" ]; then
  echo "the RIE is missing: run make tools" >&2
  exit 1
fi
: >"$out/coldstart.txt"
for fn in collect testconn; do
  CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w' -o "$out/native/$fn/bootstrap" "./functions/$fn"
  for i in $(seq 1 "$count"); do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    api=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    log="$out/native/$fn/rie-$i.log"
    # Settings that pass the cold-start checks; AWS points at a closed port (no call leaves the host).
    env -i PATH="$PATH" HOME="$HOME" AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
      CALM_SECRET_ID=calm/bench CALM_STATE_TABLE=calm-bench CALM_ENDPOINT_URL=http://127.0.0.1:9 \
      "$rie" --runtime-interface-emulator-address "127.0.0.1:$port" --runtime-api-address "127.0.0.1:$api" \
      "$out/native/$fn/bootstrap" >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
    event=events/collect-schedule.json
    [ "$fn" = testconn ] && event=events/testconn-get.json
    curl -s -o /dev/null -m 60 -XPOST "http://127.0.0.1:$port/2015-03-31/functions/function/invocations" -d @"$event" || true
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    # The RIE's REPORT line says "Init Duration: 0.03 ms" whatever happens; its rapid log has
    # the init phase (process start to the runtime's first /next): INIT REPORT(durationMs: …).
    init=$(grep -o 'INIT REPORT(durationMs: [0-9.]*' "$log" | head -1 | grep -o '[0-9.]*$' || true)
    invoke=$(grep -o 'INVOKE RTDONE([^)]*duration: [0-9.]*ms' "$log" | head -1 | grep -o '[0-9.]*ms$' || true)
    echo "$fn run $i: init ${init:-?} ms (first invoke ${invoke:-?}; see $log)" | tee -a "$out/coldstart.txt"
  done
done
for fn in collect testconn; do
  grep "^$fn run" "$out/coldstart.txt" | grep -o 'init [0-9.]*' | grep -o '[0-9.]*$' | sort -n |
    awk -v fn="$fn" '{v[NR]=$1} END {m = NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%s: median %.1f ms, fastest %.1f, slowest %.1f (n=%d)\n", fn, m, v[1], v[NR], NR}'
done | tee -a "$out/coldstart.txt"
