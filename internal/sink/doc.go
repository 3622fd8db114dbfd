// Package sink owns where collected records go: NDJSON lines to stdout or any writer, NDJSON
// appended to a local file (fsync per batch), gzip NDJSON objects in S3 with one deterministic key
// per window (a re-delivered window overwrites itself), and the collector's own metrics in
// CloudWatch Embedded Metric Format (EMF).
//
// A sink receives one Batch per monitor window and returns nil only when the batch is durably
// accepted; the collection runner advances its checkpoint only after every sink accepted.
package sink
