#!/usr/bin/env bash
# make run: the main job on the embedded default. Starts the Cloud ALM simulator on loopback, runs
# the connection test against it, then two scheduled collections with local state into ./out.
set -euo pipefail
cd "$(dirname "$0")/.."
calmctl=build/calmctl
out=out
mkdir -p "$out"
rm -rf "$out/state" "$out/records.ndjson" "$out/sim-secret.json"

"$calmctl" sim --addr 127.0.0.1:0 --write-secret "$out/sim-secret.json" >"$out/sim.log" 2>&1 &
sim=$!
trap 'kill "$sim" 2>/dev/null || true; wait "$sim" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s "$out/sim-secret.json" ] && break; sleep 0.1; done
[ -s "$out/sim-secret.json" ] || { echo "run: the simulator did not start; see $out/sim.log" >&2; exit 1; }
echo "== Cloud ALM simulator listening at $(awk '/url:/ {print $2; exit}' "$out/sim.log")"

echo
echo "== connection test (calmctl test --secret-file $out/sim-secret.json)"
"$calmctl" test --secret-file "$out/sim-secret.json"

collect() {
  "$calmctl" collect --secret-file "$out/sim-secret.json" --state "$out/state" \
    --out "$out/records.ndjson" --monitors "${CALM_RUN_MONITORS:-all}"
}
echo
echo "== first collection: the last hour, into $out/records.ndjson"
collect
first=$(wc -l <"$out/records.ndjson")
echo
echo "== second collection: only what is new since the checkpoints"
collect
total=$(wc -l <"$out/records.ndjson")

echo
echo "== summary"
echo "records after the first run: $first; added by the second run: $((total - first)) (only windows closed since the first run); in all: $total"
echo "records per monitor:"
grep -o '"monitor":"[^"]*"' "$out/records.ndjson" | cut -d'"' -f4 | sort | uniq -c | awk '{printf "  %-10s %8d\n", $2, $1}'
dups=$(grep -o '"id":"[^"]*"' "$out/records.ndjson" | sort | uniq -d | wc -l)
echo "duplicate ids across both runs: $dups"
echo "checkpoints: $out/state    records: $out/records.ndjson"
