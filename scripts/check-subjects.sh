#!/usr/bin/env bash
# make lint: commit subjects of at most 72 characters. Checks the subjects of the commits after
# BASE (default cad13b3, the first commit made under that rule; the history before it is left as
# it is) up to HEAD, and names each one that is longer. A clone without BASE (a shallow CI clone)
# checks nothing and says so.
set -euo pipefail
export LC_ALL=C.UTF-8 # count characters, not bytes ("…" is one)
base=${1:-${SUBJECT_BASE:-cad13b3}}
max=72
# Commits that reached main with a longer subject: main's history is never rewritten, so they are
# named here (full hash) and passed over, with the reason.
landed_long=(
  cfe437d58c91a70741f72a1f9baa24be5188782b # 74 characters, landed 2026-12-06 before make lint ran on it
)
if ! git rev-parse --quiet --verify "$base^{commit}" >/dev/null; then
  echo "check-subjects: base commit $base is not in this clone (shallow?); subjects not checked"
  exit 0
fi
bad=0
while IFS=$'\t' read -r hash subject; do
  n=${#subject}
  if [ "$n" -gt "$max" ]; then
    echo "commit $hash: subject of $n characters (at most $max): $subject"
    bad=$((bad + 1))
  fi
done < <(git log --no-merges --format='%H%x09%s' "$base..HEAD" | while IFS=$'\t' read -r full subject; do
  for known in "${landed_long[@]}"; do
    [ "$full" = "$known" ] && continue 2
  done
  printf '%s\t%s\n' "${full:0:9}" "$subject"
done)
if [ "$bad" -gt 0 ]; then
  echo "check-subjects: $bad commit subject(s) over $max characters since $base; shorten them (git rebase -i, reword) and put the details in the body"
  exit 1
fi
