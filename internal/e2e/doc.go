// Package e2e holds the project's end-to-end proofs; it has no code of its own, only tests.
//
// Against the Cloud ALM simulator (internal/sim) and the real runner (internal/collect), the
// fault suite switches on every fault the simulator knows (429 storms, 5xx bursts, connection
// resets, slow answers, revoked tokens, a rotated client secret, HTML pages, garbled JSON,
// totals that grow or shrink, repeated pages, ignored limits, empty windows, a 50 MB page) and
// checks that a run never skips a point: everything is delivered or still pending behind its
// checkpoint, and a second run after the fault delivers exactly what the simulator serves. The
// crash loop builds calmctl, kills it at random moments and resumes. The benchmarks measure a
// large backfill against the network bound, its memory, and the cost of a tenant-month
// (BENCHMARKS.md, scripts/bench.sh).
package e2e
