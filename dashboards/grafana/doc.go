// Package grafana holds the Grafana dashboard for OTLP users (cloud-alm.json) and the test that
// keeps its PromQL on the metric names the collector really sends, as a Prometheus-compatible
// backend translates them (see docs/otlp.md).
package grafana
