#!/usr/bin/env bash
# make bench-compare BASE=REV: issue 14's benchmarks (decode -> record -> encode beside its maps
# reference, the 24 h backfill) and the steady-state scheduled run, for REV and for the work
# tree, interleaved run by run so that both meet the same load; benchstat tables side by side.
# REV is checked out into a temporary worktree (removed at the end). Results: build/bench-compare/.
#   BENCH_COUNT      rounds of the micro-benchmarks (default 5)
#   BENCH_E2E_COUNT  rounds of the end-to-end benchmarks (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: scripts/bench-compare.sh BASE-REV}
benchstat=${BENCHSTAT:?run through make bench-compare, which installs the pinned benchstat}
count=${BENCH_COUNT:-5}
e2e_count=${BENCH_E2E_COUNT:-3}
out=build/bench-compare
rm -rf "$out" && mkdir -p "$out"
tree=$(mktemp -d)
trap 'git worktree remove --force "$tree" >/dev/null 2>&1 || rm -rf "$tree"' EXIT
git worktree add --detach --quiet "$tree" "$base"
{
  echo "date: $(date -u +%FT%TZ)  load: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "base: $(git rev-parse --short "$base") $(git log -1 --format=%s "$base")"
  echo "head: $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' + uncommitted changes')"
} | tee "$out/machine.txt"

micro='^(BenchmarkDecodeMapEncode|BenchmarkDecodeMapEncodeBinary|BenchmarkReferenceMaps|BenchmarkAppendJSON)$'
run() { # run SIDE DIR ARGS...: one round of go test ARGS in DIR, appended to $out/SIDE-<pkg>.txt
  local side=$1 dir=$2 file=$3
  shift 3
  (cd "$dir" && go test -run '^$' "$@") | tee -a "$out/$side-$file.txt" | grep '^Benchmark' || true
}
for i in $(seq 1 "$count"); do
  echo "== round $i/$count: decode -> record -> encode"
  run base "$tree" record -bench "$micro" -benchmem -count 1 ./internal/record/
  run head . record -bench "$micro" -benchmem -count 1 ./internal/record/
done
for i in $(seq 1 "$e2e_count"); do
  echo "== round $i/$e2e_count: steady-state run, 24 h backfill"
  run base "$tree" steady -bench '^BenchmarkSteadyStateRun$' -benchtime 50x -count 1 -timeout 30m ./internal/e2e/
  run head . steady -bench '^BenchmarkSteadyStateRun$' -benchtime 50x -count 1 -timeout 30m ./internal/e2e/
  run base "$tree" backfill -bench '^BenchmarkBackfill24h$' -benchtime 1x -count 1 -timeout 60m ./internal/e2e/
  run head . backfill -bench '^BenchmarkBackfill24h$' -benchtime 1x -count 1 -timeout 60m ./internal/e2e/
done
for f in record steady backfill; do
  [ -s "$out/base-$f.txt" ] || continue
  echo "== $f: base vs head"
  "$benchstat" base="$out/base-$f.txt" head="$out/head-$f.txt" | tee "$out/$f-benchstat.txt"
done
echo "results in $out/"
