#!/usr/bin/env bash
# Runs the fuzz targets of the module for a short time each (make fuzz-short), seed corpus
# included. The differential targets that compare our protobuf wire readers with pdata's
# generated decoders byte for byte (names ending in Matches…) keep finding divergences on
# malformed protobuf that no OTLP peer sends; they run with FUZZ_WIRE=1 (make fuzz-wire), and
# their seed corpora run in every `go test`.
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
    case "$t" in
      *Matches*) [ "$wire_only" = 1 ] || continue ;;
      *) [ "$wire_only" = 1 ] && continue ;;
    esac
    found=$((found + 1))
    echo "fuzz $pkg $t ($fuzztime)"
    fuzz_one "$pkg" "$t"
  done
done < <(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -r -n1 dirname | sort -u | sed 's|^\./|./|')
echo "fuzz: $found targets ran"
