// Package otlptest runs the real OpenTelemetry Collector OTLP receiver (otlpreceiver) on a loopback
// port for tests, so that the OTLP sink is checked against the code every OTLP backend is built on
// rather than against a hand-made fake.
package otlptest
