package otlptest

import (
	"bytes"
	"net/http"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// TestReceiverAcceptsMetricsLogsAndTraces posts one metric, one log record and one span in OTLP
// protobuf and checks that the sinks hold them.
func TestReceiverAcceptsMetricsLogsAndTraces(t *testing.T) {
	r := Start(t)

	md := pmetric.NewMetrics()
	m := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("responseTime")
	m.SetEmptyGauge().DataPoints().AppendEmpty().SetDoubleValue(12.5)
	body, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	post(t, r.Endpoint+"/v1/metrics", body)

	ld := plog.NewLogs()
	ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr("hello")
	body, err = plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	post(t, r.Endpoint+"/v1/logs", body)

	td := ptrace.NewTraces()
	td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetName("GET /ui")
	body, err = ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	post(t, r.Endpoint+"/v1/traces", body)

	if got := r.Metrics.DataPointCount(); got != 1 {
		t.Errorf("metrics sink holds %d data points, want 1", got)
	} else if name := r.Metrics.AllMetrics()[0].ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Name(); name != "responseTime" {
		t.Errorf("metric name = %q, want responseTime", name)
	}
	if got := r.Logs.LogRecordCount(); got != 1 {
		t.Errorf("logs sink holds %d log records, want 1", got)
	} else if b := r.Logs.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Str(); b != "hello" {
		t.Errorf("log body = %q, want hello", b)
	}
	if got := r.Traces.SpanCount(); got != 1 {
		t.Errorf("traces sink holds %d spans, want 1", got)
	} else if n := r.Traces.AllTraces()[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Name(); n != "GET /ui" {
		t.Errorf("span name = %q, want GET /ui", n)
	}
}

func post(t *testing.T, url string, body []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/x-protobuf", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: HTTP %d", url, resp.StatusCode)
	}
}
