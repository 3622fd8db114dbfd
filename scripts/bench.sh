#!/usr/bin/env bash
# make bench: the measurements behind BENCHMARKS.md. Every benchmark runs beside its named
# reference in the same run; results (raw, benchstat, sizes, cold start) go to build/bench/.
#   BENCH_COUNT   repetitions of the micro-benchmarks (default 6)
#   BENCH_E2E_COUNT repetitions of the end-to-end benchmarks (default 3)
#   COLD_COUNT    cold starts per function under the RIE (default 10; scripts/coldstart.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/bench
mkdir -p "$out" .bin
count=${BENCH_COUNT:-6}
e2e_count=${BENCH_E2E_COUNT:-3}

benchstat=${BENCHSTAT:?run through make bench, which installs the pinned benchstat}

{
  echo "date: $(date -u +%FT%TZ)"
  echo "go: $(go version)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') x $(nproc)"
  echo "mem: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "commit: $(git rev-parse --short HEAD)"
} | tee "$out/machine.txt"

echo "== decode -> record -> encode vs encoding/json into maps (count $count)"
go test -run '^$' -bench '^(BenchmarkDecodeMapEncode|BenchmarkDecodeMapEncodeBinary|BenchmarkReferenceMaps|BenchmarkAppendJSON|BenchmarkMarshalReference)$' \
  -benchmem -count "$count" ./internal/record/ | tee "$out/record.txt"
# One table per pair: ours vs the reference, with the ratio.
pair() { # pair OURS REF NAME: benchstat of our benchmark against its reference under one name
  grep -v '^Benchmark' "$out/record.txt" >"$out/$3-ours.txt"; cp "$out/$3-ours.txt" "$out/$3-ref.txt"
  grep "^Benchmark$1-" "$out/record.txt" | sed "s/^Benchmark$1-/Benchmark$3-/" >>"$out/$3-ours.txt"
  grep "^Benchmark$2-" "$out/record.txt" | sed "s/^Benchmark$2-/Benchmark$3-/" >>"$out/$3-ref.txt"
  "$benchstat" ref="$out/$3-ref.txt" ours="$out/$3-ours.txt" | tee "$out/$3-benchstat.txt"
}
pair DecodeMapEncode ReferenceMaps Pipeline
pair DecodeMapEncodeBinary ReferenceMaps PipelineBinary
pair DecodeMapEncodeBinary DecodeMapEncode BinaryVsJSON
pair AppendJSON MarshalReference Encode

echo "== end to end: steady-state run (cost) and 24 h backfill of >= 1 M points with 40 ms latency (count $e2e_count)"
go test -run '^$' -bench '^(BenchmarkSteadyStateRun)$' -benchtime 50x -count "$e2e_count" -timeout 30m ./internal/e2e/ | tee "$out/steady.txt"
go test -run '^$' -bench '^(BenchmarkBackfill24h)$' -benchtime 1x -count "$e2e_count" -timeout 60m ./internal/e2e/ | tee "$out/backfill.txt"
# The same backfill with a soft memory limit (GOMEMLIMIT), as a Lambda environment could set it.
CALM_BENCH_GOMEMLIMIT=40MiB go test -run '^$' -bench '^(BenchmarkBackfill24h)$' -benchtime 1x -count "$e2e_count" -timeout 60m ./internal/e2e/ | tee "$out/backfill-memlimit.txt"
"$benchstat" "$out/steady.txt" | tee "$out/steady-benchstat.txt"
"$benchstat" default="$out/backfill.txt" gomemlimit40MiB="$out/backfill-memlimit.txt" | tee "$out/backfill-benchstat.txt"

echo "== API transfer: bytes per run and per point, quota share (10, 240, 1,000 services; json/binary x gzip or not)"
go test -run '^$' -bench '^BenchmarkTransfer$' -benchtime 2x -count 1 -timeout 60m ./internal/e2e/ | tee "$out/transfer.txt"

echo "== bootstrap sizes (linux/arm64, Makefile flags)"
for fn in collect testconn; do
  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w' \
    -o "$out/arm64/$fn/bootstrap" "./functions/$fn"
  bytes=$(stat -c %s "$out/arm64/$fn/bootstrap")
  zipped=$( (cd "$out/arm64/$fn" && rm -f ../$fn.zip && zip -q -9 ../$fn.zip bootstrap && stat -c %s ../$fn.zip) )
  printf '%-9s bootstrap %6.2f MB (%d bytes), zipped %6.2f MB\n' "$fn" "$(echo "$bytes/1000000" | bc -l)" "$bytes" "$(echo "$zipped/1000000" | bc -l)"
done | tee "$out/sizes.txt"

echo "== cold start under the RIE (median of ${COLD_COUNT:-10} starts per function)"
scripts/coldstart.sh "${COLD_COUNT:-10}" "$out"
# The fan-out of 1,000 tenants through moto SQS/Secrets Manager/DynamoDB and the simulator
# (make test runs the same test with 40).
CALM_FANOUT_TENANTS=1000 go test -count=1 -timeout 30m -run 'TestFanOut$' -v ./functions/collect 2>&1 | grep 'fan-out:\|^--- \|^ok\|FAIL' | tee "$out/fanout.txt"
echo "results in $out/"
