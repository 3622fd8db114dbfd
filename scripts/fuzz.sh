#!/usr/bin/env bash
# Runs every fuzz target of the module for a short time each (make fuzz-short, part of make
# test), seed corpus included. The differential targets that compare our protobuf wire readers
# with pdata's or the protobuf runtime's decoders (names with Matches) are among them; each
# divergence they found is fixed or kept as a seed-corpus case with a test that asserts the agreed
# reading (bodies with proto2 groups, which no OTLP peer sends, are the known one). FUZZ_WIRE=1
# (make fuzz-wire) runs only those, for a longer look.
set -euo pipefail
fuzztime=${1:-10s}
wire_only=${FUZZ_WIRE:-0}
cd "$(dirname "$0")/.."
found=0

# fuzz_one runs one target. Go 1.26's fuzz coordinator can fail a run with a bare "context
# deadline exceeded" exactly as -fuzztime ends (golang/go#75804, fixed in Go 1.27) when a busy
# machine keeps a worker from answering in time. Such a run found nothing: it wrote no failing
# input and printed no test failure. It is run once more; any other failure fails at once.
fuzz_one() {
  local log rc
  log=$(mktemp)
  for attempt in 1 2; do
    rc=0
    go test -run '^$' -fuzz "^${2}\$" -fuzztime "$fuzztime" "$1" 2>&1 | tee "$log" || rc=$?
    [ "$rc" = 0 ] && { rm -f "$log"; return 0; }
    if [ "$attempt" = 1 ] && grep -q '^    context deadline exceeded$' "$log" &&
      ! grep -qE 'Failing input written|panic:|_test\.go:[0-9]+:' "$log"; then
      echo "fuzz: $2 stopped on Go's fuzztime deadline race with nothing found (golang/go#75804); running it again"
      continue
    fi
    rm -f "$log"
    return "$rc"
  done
}
while read -r pkg; do
  targets=$(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true)
  for t in $targets; do
    if [ "$wire_only" = 1 ]; then
      case "$t" in *Matches*) ;; *) continue ;; esac
    fi
    found=$((found + 1))
    echo "fuzz $pkg $t ($fuzztime)"
    fuzz_one "$pkg" "$t"
  done
done < <(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -r -n1 dirname | sort -u | sed 's|^\./|./|')
echo "fuzz: $found targets ran"
