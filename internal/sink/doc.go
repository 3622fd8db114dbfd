// Package sink owns where collected records go: NDJSON lines to stdout or any writer, NDJSON
// appended to a local file (fsync per batch), gzip NDJSON objects in S3 with one deterministic key
// per window (a re-delivered window overwrites itself), and OTLP/HTTP export to an OpenTelemetry
// backend (otlp.go; headers in otlpheaders.go, settings in otlpenv.go, answers in otlperrors.go).
// The collector's own metrics are not a sink: internal/emf writes them.
//
// A sink receives one Batch per monitor window and returns nil only when the batch is durably
// accepted; the collection runner advances its checkpoint only after every sink accepted.
package sink
