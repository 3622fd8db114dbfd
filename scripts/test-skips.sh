#!/usr/bin/env bash
# make test's last word: reads the skips the tests noted (internal/testkit, one tab-separated line
# per skip: tool, install command, package directory, test) and names every missing tool, the
# tests it skipped and the command that installs it. Exits 1 when a tool was missing, so a run
# that tested less does not say ok; CALM_ALLOW_MISSING_TOOLS=1 runs what it can and exits 0,
# still naming them.
set -euo pipefail
file=${1:?usage: test-skips.sh SKIPS_FILE}
root=$(cd "$(dirname "$0")/.." && pwd)
[ -s "$file" ] || exit 0

echo
echo "== make test: tests skipped because a tool is missing"
# Group by tool: the install command once, then each skipped test under its package.
sort -u "$file" | awk -F'\t' -v root="$root/" '
  {
    pkg = $3; sub("^" root, "./", pkg); if (pkg == root) pkg = "."
    if (!($1 in install)) { order[++n] = $1; install[$1] = $2 }
    tests[$1] = tests[$1] "    " pkg "  " $4 "\n"; count[$1]++
  }
  END {
    for (i = 1; i <= n; i++) {
      t = order[i]
      printf "%s is missing: %d test(s) skipped\n  install: %s\n%s", t, count[t], install[t], tests[t]
    }
  }'
tools=$(cut -f1 "$file" | sort -u | paste -sd, - | sed 's/,/, /g')
if [ "${CALM_ALLOW_MISSING_TOOLS:-}" = 1 ]; then
  echo "CALM_ALLOW_MISSING_TOOLS=1: passing without the tests above (missing: $tools)"
  exit 0
fi
echo "make test FAILED: missing $tools; install them, or run CALM_ALLOW_MISSING_TOOLS=1 make test to pass without those tests"
exit 1
