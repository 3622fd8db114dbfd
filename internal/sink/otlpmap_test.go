package sink

import (
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/calm-collector/calm-collector/internal/record"
)

var otlpFrom = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// withAttr returns r of a series like its own with the attribute k set to v.
func withAttr(r record.Record, k, v string) record.Record {
	attrs := r.AttrMap()
	attrs[k] = v
	r.Series = record.NewSeries(r.Tenant(), r.Monitor(), r.Kind(), r.Name(), r.Unit(), r.Count(), attrs)
	return r
}

func metricRec(name, unit string, at time.Time, v float64, attrs map[string]string) record.Record {
	return record.Record{Series: record.NewSeries("t1", "jam", record.KindMetric, name, unit, false, attrs), Point: record.Point{ID: record.PointID("t1", "jam", name, attrs, at), Time: at, Value: v, HasValue: true}}
}

func TestIsCount(t *testing.T) {
	for name, want := range map[string]bool{
		"executions": true, "jam.executions": true, "measure:executions": true, "Count": true, "counter": true,
		"requests": true, "eventSituations": true, "iep.chatMessages": true, "totalDuration": false, "alerts": true, "tickets": true, "mails": true, "events": true,
		"runTime.count": true, "a/b/requests": true,
		"runTime": false, "responseTime": false, "users": false, "okStatus": false, "value": false,
		"available": false, "runTime.sum": false, "executionsPerMinute": false, "": false,
	} {
		if got := isCount(name); got != want {
			t.Errorf("isCount(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestBucketStep(t *testing.T) {
	five := 5 * time.Minute
	at := func(m int) record.Record {
		return metricRec("x", "", otlpFrom.Add(time.Duration(m)*time.Minute), 1, nil)
	}
	tests := []struct {
		name string
		b    Batch
		want time.Duration
	}{
		{"one bucket window", Batch{From: otlpFrom, To: otlpFrom.Add(five), Series: record.Runs([]record.Record{at(0), at(0)})}, five},
		{"several buckets, unsorted", Batch{From: otlpFrom, To: otlpFrom.Add(time.Hour), Series: record.Runs([]record.Record{at(10), at(0), at(5), at(0)})}, five},
		{"sparse points: gap capped by the window", Batch{From: otlpFrom, To: otlpFrom.Add(15 * time.Minute), Series: record.Runs([]record.Record{at(0)})}, 15 * time.Minute},
		{"no window, two times", Batch{Series: record.Runs([]record.Record{at(0), at(10)})}, 10 * time.Minute},
		{"no window, one time", Batch{Series: record.Runs([]record.Record{at(0)})}, 0},
	}
	for _, tt := range tests {
		if got := bucketStep(tt.b); got != tt.want {
			t.Errorf("%s: bucketStep = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestMetricsMapping(t *testing.T) {
	five := 5 * time.Minute
	attrs := map[string]string{"serviceId": "s-1", "jobName": "J1"}
	b := Batch{Tenant: "t1", Monitor: "jam", From: otlpFrom, To: otlpFrom.Add(2 * five), Series: record.Runs([]record.Record{
		metricRec("executions", "1", otlpFrom, 3, attrs),
		metricRec("runTime", "ms", otlpFrom, 120.5, attrs),
		metricRec("executions", "1", otlpFrom.Add(five), 4, attrs),
		{Series: record.NewSeries("", "", record.KindMetric, "runTime", "ms", false, attrs), Point: record.Point{Time: otlpFrom.Add(five)}}, // no value
		{Series: record.NewSeries("", "", record.KindEvent, "status_event", "", false, nil), Point: record.Point{Time: otlpFrom}},           // not a metric
	})}
	md, err := newOTLPMapper(b, otlpFrom).metrics(recordsOf(b))
	if err != nil {
		t.Fatal(err)
	}
	if md.ResourceMetrics().Len() != 1 {
		t.Fatalf("%d resources, want 1", md.ResourceMetrics().Len())
	}
	res := md.ResourceMetrics().At(0).Resource().Attributes().AsRaw()
	wantRes := map[string]any{"service.name": "sap-cloud-alm", "calm.tenant": "t1", "calm.monitor": "jam"}
	if !mapsEqual(res, wantRes) {
		t.Errorf("resource attributes = %v, want %v", res, wantRes)
	}
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	if ms.Len() != 2 {
		t.Fatalf("%d metrics, want 2 (executions, runTime)", ms.Len())
	}
	ex, rt := ms.At(0), ms.At(1)
	if ex.Name() != "executions" || ex.Unit() != "1" || ex.Type() != pmetric.MetricTypeSum {
		t.Fatalf("first metric = %s %q %s, want executions \"1\" Sum", ex.Name(), ex.Unit(), ex.Type())
	}
	if ex.Sum().AggregationTemporality() != pmetric.AggregationTemporalityDelta || !ex.Sum().IsMonotonic() {
		t.Errorf("executions: temporality %s monotonic %v, want Delta true", ex.Sum().AggregationTemporality(), ex.Sum().IsMonotonic())
	}
	for i, want := range []struct {
		start, end time.Time
		v          float64
	}{{otlpFrom, otlpFrom.Add(five), 3}, {otlpFrom.Add(five), otlpFrom.Add(2 * five), 4}} {
		dp := ex.Sum().DataPoints().At(i)
		if !dp.StartTimestamp().AsTime().Equal(want.start) || !dp.Timestamp().AsTime().Equal(want.end) || dp.DoubleValue() != want.v {
			t.Errorf("executions point %d = [%s, %s) %v, want [%s, %s) %v", i, dp.StartTimestamp().AsTime(), dp.Timestamp().AsTime(),
				dp.DoubleValue(), want.start, want.end, want.v)
		}
		if !mapsEqual(dp.Attributes().AsRaw(), map[string]any{"serviceId": "s-1", "jobName": "J1"}) {
			t.Errorf("executions point %d attributes = %v", i, dp.Attributes().AsRaw())
		}
	}
	if rt.Type() != pmetric.MetricTypeGauge || rt.Unit() != "ms" || rt.Gauge().DataPoints().Len() != 2 {
		t.Fatalf("runTime = %s %q with %d points, want a Gauge \"ms\" with 2", rt.Type(), rt.Unit(), rt.Gauge().DataPoints().Len())
	}
	g0, g1 := rt.Gauge().DataPoints().At(0), rt.Gauge().DataPoints().At(1)
	if !g0.Timestamp().AsTime().Equal(otlpFrom) || g0.StartTimestamp() != 0 || g0.DoubleValue() != 120.5 {
		t.Errorf("runTime point 0 = start %d time %s value %v, want no start, %s, 120.5", g0.StartTimestamp(), g0.Timestamp().AsTime(), g0.DoubleValue(), otlpFrom)
	}
	if !g1.Flags().NoRecordedValue() {
		t.Errorf("runTime point 1 (no value) is not flagged no-recorded-value")
	}
}

func TestMetricsMappingNeedsAWindowForCounts(t *testing.T) {
	b := Batch{Tenant: "t1", Monitor: "exm", Series: record.Runs([]record.Record{metricRec("counter", "", otlpFrom, 1, nil)})}
	_, err := newOTLPMapper(b, otlpFrom).metrics(recordsOf(b))
	want := `count "counter" at 2026-11-25T10:00:00Z: the batch has no window [from, to) to give the delta sum its interval`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

func TestLogsMapping(t *testing.T) {
	ev := record.Record{Series: record.NewSeries("t1", "status", record.KindEvent, "status_event", "", false, map[string]string{"eventType": "Disruption", "eventName": "Outage", "eventDescription": "DB down", "serviceName": "S4H"}), Point: record.Point{ID: "ev1", Time: otlpFrom}}
	lg := record.Record{Series: record.NewSeries("t1", "logs", record.KindLog, "app", "", false, map[string]string{"severityText": "ERROR", "severityNumber": "17", "serviceId": "s-1"}), Point: record.Point{ID: "lg1", Time: otlpFrom.Add(time.Second), Body: "NullPointerException at X"}}
	b := Batch{Tenant: "t1", Monitor: "status", From: otlpFrom, To: otlpFrom.Add(time.Hour),
		Series: record.Runs([]record.Record{ev, metricRec("x", "", otlpFrom, 1, nil), lg})}
	observed := otlpFrom.Add(time.Hour)
	ld := newOTLPMapper(b, observed).logs(recordsOf(b))
	lrs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	if lrs.Len() != 2 {
		t.Fatalf("%d log records, want 2", lrs.Len())
	}
	e := lrs.At(0)
	if e.Body().Str() != "Outage: DB down" || e.EventName() != "status_event" || e.SeverityNumber() != plog.SeverityNumberError ||
		e.SeverityText() != "ERROR" || !e.Timestamp().AsTime().Equal(otlpFrom) || !e.ObservedTimestamp().AsTime().Equal(observed) {
		t.Errorf("event = body %q event %q severity %s %q time %s observed %s", e.Body().Str(), e.EventName(), e.SeverityNumber(),
			e.SeverityText(), e.Timestamp().AsTime(), e.ObservedTimestamp().AsTime())
	}
	wantEv := map[string]any{"eventType": "Disruption", "eventName": "Outage", "eventDescription": "DB down", "serviceName": "S4H", "calm.record.id": "ev1"}
	if !mapsEqual(e.Attributes().AsRaw(), wantEv) {
		t.Errorf("event attributes = %v, want %v", e.Attributes().AsRaw(), wantEv)
	}
	l := lrs.At(1)
	if l.Body().Str() != "NullPointerException at X" || l.EventName() != "" || l.SeverityNumber() != plog.SeverityNumberError || l.SeverityText() != "ERROR" {
		t.Errorf("log = body %q event %q severity %s %q", l.Body().Str(), l.EventName(), l.SeverityNumber(), l.SeverityText())
	}
	wantLog := map[string]any{"severityText": "ERROR", "severityNumber": "17", "serviceId": "s-1", "calm.record.id": "lg1", "calm.record.name": "app"}
	if !mapsEqual(l.Attributes().AsRaw(), wantLog) {
		t.Errorf("log attributes = %v, want %v", l.Attributes().AsRaw(), wantLog)
	}
}

func TestEventSeverityAndBody(t *testing.T) {
	for typ, want := range map[string]plog.SeverityNumber{
		"Disruption": plog.SeverityNumberError, "Degradation": plog.SeverityNumberWarn, "Maintenance": plog.SeverityNumberInfo,
		"Planned Availability": plog.SeverityNumberInfo, "communication": plog.SeverityNumberInfo, "Other": plog.SeverityNumberUnspecified,
	} {
		if got, _ := eventSeverity(typ); got != want {
			t.Errorf("eventSeverity(%q) = %s, want %s", typ, got, want)
		}
	}
	for _, tt := range []struct {
		r    record.Record
		want string
	}{
		{record.Record{Point: record.Point{Body: "given"}}, "given"},
		{record.Record{Series: record.NewSeries("", "", "", "", "", false, map[string]string{"eventName": "N"})}, "N"},
		{record.Record{Series: record.NewSeries("", "", "", "", "", false, map[string]string{"eventDescription": "D"})}, "D"},
		{record.Record{Series: record.NewSeries("", "", "", "", "", false, map[string]string{"eventName": "N", "eventDescription": "N"})}, "N"},
		{record.Record{Series: record.NewSeries("", "", "", "", "", false, map[string]string{"eventName": "N", "eventDescription": "D"})}, "N: D"},
	} {
		if got := eventBody(&tt.r); got != tt.want {
			t.Errorf("eventBody(%v) = %q, want %q", tt.r.AttrMap(), got, tt.want)
		}
	}
}

func mapsEqual(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// BenchmarkOTLPEncode maps, encodes and compresses one window of 2000 points (one request).
func BenchmarkOTLPEncode(b *testing.B) {
	batch := Batch{Tenant: "t1", Monitor: "jam", From: otlpFrom, To: otlpFrom.Add(5 * time.Minute)}
	var recs []record.Record
	for i := range 2000 {
		name := "runTime"
		if i%2 == 0 {
			name = "executions"
		}
		recs = append(recs, metricRec(name, "ms", otlpFrom, float64(i), map[string]string{
			"serviceId": "3f2a6c1e-0000-4000-8000-00000000000" + string(rune('0'+i%10)), "serviceName": "S4H.100",
			"jobName": "JOB_" + string(rune('A'+i%26)), "jobId": string(rune('a'+i%26)) + "-id",
		}))
	}
	batch.Series = record.Runs(recs)
	s := &OTLP{}
	b.ReportAllocs()
	for b.Loop() {
		md, err := newOTLPMapper(batch, otlpFrom).metrics(recordsOf(batch))
		if err != nil {
			b.Fatal(err)
		}
		body, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.gzip(body); err != nil {
			b.Fatal(err)
		}
	}
}
