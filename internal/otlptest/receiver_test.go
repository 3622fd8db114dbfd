package otlptest

import (
	"bytes"
	"net/http"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
)

// TestReceiverAcceptsMetricsAndLogs posts one metric and one log record in OTLP protobuf and checks
// that the sinks hold them.
func TestReceiverAcceptsMetricsAndLogs(t *testing.T) {
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
