package sink

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/calm-collector/calm-collector/internal/awstest"
	"github.com/calm-collector/calm-collector/internal/otlptest"
	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

// otlpSecret is the credential the tests send; it must never show up in an error or a log line.
const otlpSecret = "Bearer s3cr3t-T0KEN+/="

// otlpBatch is one 5-minute jam window with a count, a gauge, a point without value, a status
// event and a log line.
func otlpBatch() Batch {
	at := otlpFrom.Add(5 * time.Minute)
	attrs := map[string]string{"serviceId": "s-1", "serviceName": "S4H.100", "jobName": "J1"}
	attrs2 := map[string]string{"serviceId": "s-2", "serviceName": "BTP.1", "jobName": "J2"}
	ev := record.Record{Series: record.NewSeries("t1", "jam", record.KindEvent, "status_event", "", false, map[string]string{"eventId": "e1", "eventType": "Degradation", "eventName": "Slow", "eventDescription": "slow responses"}), Point: record.Point{ID: "ev-1", Time: at.Add(time.Minute)}}
	lg := record.Record{Series: record.NewSeries("t1", "jam", record.KindLog, "exception", "", false, map[string]string{"serviceId": "s-1"}), Point: record.Point{ID: "lg-1", Time: at.Add(2 * time.Minute), Body: "java.lang.IllegalStateException: boom"}}
	return Batch{Tenant: "t1", Monitor: "jam", From: at, To: at.Add(5 * time.Minute), Series: record.Runs([]record.Record{
		metricRec("executions", "1", at, 7, attrs),
		metricRec("runTime", "ms", at, 1234.5, attrs),
		metricRec("executions", "1", at, 2, attrs2),
		{Series: record.NewSeries("t1", "jam", record.KindMetric, "runTime", "ms", false, attrs2), Point: record.Point{ID: "nv", Time: at}},
		ev, lg,
	})}
}

// TestOTLPToRealReceiver writes a batch to the OpenTelemetry Collector's own OTLP receiver and
// checks, field by field, that every record arrived as the mapping says.
func TestOTLPToRealReceiver(t *testing.T) {
	rcv := otlptest.Start(t)
	s, err := NewOTLP("otlp+"+rcv.Endpoint, OTLPOptions{Headers: OTLPHeaders{"Authorization": otlpSecret}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	b := otlpBatch()
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatalf("Write: %v", err)
	}

	if n := rcv.Metrics.DataPointCount(); n != 4 {
		t.Fatalf("receiver got %d data points, want 4", n)
	}
	if n := rcv.Logs.LogRecordCount(); n != 2 {
		t.Fatalf("receiver got %d log records, want 2", n)
	}
	md := rcv.Metrics.AllMetrics()[0]
	res := md.ResourceMetrics().At(0).Resource().Attributes().AsRaw()
	if !mapsEqual(res, map[string]any{"service.name": "sap-cloud-alm", "calm.tenant": "t1", "calm.monitor": "jam"}) {
		t.Errorf("metrics resource = %v", res)
	}
	got := map[string]pmetric.NumberDataPoint{} // by name + serviceId
	types := map[string]pmetric.Metric{}
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	for i := range ms.Len() {
		m := ms.At(i)
		types[m.Name()] = m
		var dps pmetric.NumberDataPointSlice
		switch m.Type() {
		case pmetric.MetricTypeSum:
			dps = m.Sum().DataPoints()
		case pmetric.MetricTypeGauge:
			dps = m.Gauge().DataPoints()
		default:
			t.Fatalf("metric %s arrived as %s", m.Name(), m.Type())
		}
		for j := range dps.Len() {
			sid, _ := dps.At(j).Attributes().Get("serviceId")
			got[m.Name()+"/"+sid.Str()] = dps.At(j)
		}
	}
	for r := range b.Records() {
		if r.Kind() != record.KindMetric {
			continue
		}
		key := r.Name() + "/" + r.Attr("serviceId")
		dp, ok := got[key]
		if !ok {
			t.Errorf("point %s did not arrive", key)
			continue
		}
		m := types[r.Name()]
		if m.Unit() != r.Unit() {
			t.Errorf("%s: unit %q, want %q", key, m.Unit(), r.Unit())
		}
		wantAttrs := map[string]any{}
		for k, v := range r.Attrs() {
			wantAttrs[k] = v
		}
		if !mapsEqual(dp.Attributes().AsRaw(), wantAttrs) {
			t.Errorf("%s: attributes %v, want %v", key, dp.Attributes().AsRaw(), wantAttrs)
		}
		if r.HasValue && dp.DoubleValue() != r.Value {
			t.Errorf("%s: value %v, want %v", key, dp.DoubleValue(), r.Value)
		}
		if !r.HasValue && !dp.Flags().NoRecordedValue() {
			t.Errorf("%s: a record without value arrived without the no-recorded-value flag", key)
		}
		switch r.Name() {
		case "executions":
			if m.Type() != pmetric.MetricTypeSum || m.Sum().AggregationTemporality() != pmetric.AggregationTemporalityDelta || !m.Sum().IsMonotonic() {
				t.Errorf("%s: %s, want a monotonic delta sum", key, m.Type())
			}
			if !dp.StartTimestamp().AsTime().Equal(r.Time) || !dp.Timestamp().AsTime().Equal(b.To) {
				t.Errorf("%s: interval [%s, %s), want [%s, %s)", key, dp.StartTimestamp().AsTime(), dp.Timestamp().AsTime(), r.Time, b.To)
			}
		default:
			if m.Type() != pmetric.MetricTypeGauge || !dp.Timestamp().AsTime().Equal(r.Time) || dp.StartTimestamp() != 0 {
				t.Errorf("%s: %s at %s (start %d), want a gauge at %s", key, m.Type(), dp.Timestamp().AsTime(), dp.StartTimestamp(), r.Time)
			}
		}
	}

	lrs := rcv.Logs.AllLogs()[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	ev, lg := lrs.At(0), lrs.At(1)
	evRec, lgRec := recordsOf(b)[4], recordsOf(b)[5]
	if ev.Body().Str() != "Slow: slow responses" || ev.SeverityNumber() != plog.SeverityNumberWarn || ev.SeverityText() != "WARN" ||
		ev.EventName() != "status_event" || !ev.Timestamp().AsTime().Equal(evRec.Time) {
		t.Errorf("event arrived as body %q severity %s/%q event %q at %s", ev.Body().Str(), ev.SeverityNumber(), ev.SeverityText(),
			ev.EventName(), ev.Timestamp().AsTime())
	}
	wantEv := map[string]any{"calm.record.id": "ev-1"}
	for k, v := range evRec.Attrs() {
		wantEv[k] = v
	}
	if !mapsEqual(ev.Attributes().AsRaw(), wantEv) {
		t.Errorf("event attributes = %v, want %v", ev.Attributes().AsRaw(), wantEv)
	}
	if lg.Body().Str() != lgRec.Body || !lg.Timestamp().AsTime().Equal(lgRec.Time) ||
		!mapsEqual(lg.Attributes().AsRaw(), map[string]any{"serviceId": "s-1", "calm.record.id": "lg-1", "calm.record.name": "exception"}) {
		t.Errorf("log arrived as body %q at %s attributes %v", lg.Body().Str(), lg.Timestamp().AsTime(), lg.Attributes().AsRaw())
	}
}

// TestOTLPEmptyBatchSendsNothing: an empty window costs no request.
func TestOTLPEmptyBatchSendsNothing(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	defer srv.Close()
	s := newTestOTLP(t, srv.URL, OTLPOptions{})
	if err := s.Write(context.Background(), Batch{Tenant: "t1", Monitor: "jam", From: otlpFrom, To: otlpFrom.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("%d requests for an empty batch, want 0", n)
	}
}

// backend is an httptest OTLP backend answering each request with the next scripted answer (the
// last one repeats) and remembering what it got.
type backend struct {
	srv     *httptest.Server
	mu      sync.Mutex
	answers []answer
	reqs    []*http.Request
	bodies  [][]byte
}

type answer struct {
	status int
	header map[string]string
	body   []byte
}

func newBackend(t *testing.T, answers ...answer) *backend {
	b := &backend{answers: answers}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		n := len(b.reqs)
		b.reqs = append(b.reqs, r)
		b.bodies = append(b.bodies, data)
		a := b.answers[min(n, len(b.answers)-1)]
		b.mu.Unlock()
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		_, _ = w.Write(a.body)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *backend) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.reqs)
}

func ok200() answer { return answer{status: 200} }

// newTestOTLP makes a sink for url with fast retries and a captured debug log.
func newTestOTLP(t *testing.T, url string, o OTLPOptions) *OTLP {
	t.Helper()
	if o.Backoff == 0 {
		o.Backoff = time.Millisecond
	}
	s, err := NewOTLP("otlp+"+url, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// otlpObserved is the sink's clock in TestOTLPRequestShape: an hour after the batch.
var otlpObserved = otlpFrom.Add(time.Hour)

func metricsOnly() Batch {
	b := otlpBatch()
	b.Series = record.Runs(recordsOf(b)[:4])
	return b
}

func TestOTLPRequestShape(t *testing.T) {
	be := newBackend(t, ok200())
	s := newTestOTLP(t, be.srv.URL+"/otlp/", OTLPOptions{Headers: OTLPHeaders{"Authorization": otlpSecret, "X-Scope-OrgID": "tenant-a"},
		Now: func() time.Time { return otlpObserved }})
	if s.Name() != "otlp+"+be.srv.URL+"/otlp" {
		t.Errorf("Name = %q", s.Name())
	}
	if err := s.Write(context.Background(), otlpBatch()); err != nil {
		t.Fatal(err)
	}
	if be.count() != 2 {
		t.Fatalf("%d requests, want 2 (metrics, logs)", be.count())
	}
	for i, path := range []string{"/otlp/v1/metrics", "/otlp/v1/logs"} {
		r := be.reqs[i]
		if r.Method != http.MethodPost || r.URL.Path != path {
			t.Errorf("request %d = %s %s, want POST %s", i, r.Method, r.URL.Path, path)
		}
		for k, want := range map[string]string{"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip",
			"Authorization": otlpSecret, "X-Scope-Orgid": "tenant-a", "User-Agent": "calm-collector"} {
			if got := r.Header.Get(k); got != want {
				t.Errorf("request %d header %s = %q, want %q", i, k, got, want)
			}
		}
		zr, err := gzip.NewReader(bytes.NewReader(be.bodies[i]))
		if err != nil {
			t.Fatalf("request %d body is not gzip: %v", i, err)
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			req := pmetricotlp.NewExportRequest()
			if err := req.UnmarshalProto(raw); err != nil || req.Metrics().DataPointCount() != 4 {
				t.Errorf("metrics body: err %v, %d points, want 4", err, req.Metrics().DataPointCount())
			}
		} else {
			req := plogotlp.NewExportRequest()
			if err := req.UnmarshalProto(raw); err != nil || req.Logs().LogRecordCount() != 2 {
				t.Fatalf("logs body: err %v, %d records, want 2", err, req.Logs().LogRecordCount())
			}
			// observed on the sink's clock, not the wall clock
			lr := req.Logs().ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
			if got := lr.ObservedTimestamp().AsTime(); !got.Equal(otlpObserved) {
				t.Errorf("observed timestamp %s, want the sink's clock %s", got, otlpObserved)
			}
		}
	}
}

func TestOTLPSplitsLargeBatches(t *testing.T) {
	be := newBackend(t, ok200())
	s := newTestOTLP(t, be.srv.URL, OTLPOptions{MaxPerRequest: 3})
	b := Batch{Tenant: "t1", Monitor: "exm", From: otlpFrom, To: otlpFrom.Add(5 * time.Minute)}
	for i := range 7 {
		b.Series = record.Runs(append(recordsOf(b), metricRec("counter", "", otlpFrom, float64(i), map[string]string{"i": fmt.Sprint(i)})))
	}
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if be.count() != 3 {
		t.Errorf("%d requests for 7 points at 3 per request, want 3", be.count())
	}
}

func TestOTLPRetriesThrottlingHonouringRetryAfter(t *testing.T) {
	be := newBackend(t, answer{status: 429, header: map[string]string{"Retry-After": "1"}}, ok200())
	var logs bytes.Buffer
	s := newTestOTLP(t, be.srv.URL, OTLPOptions{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err := s.Write(context.Background(), metricsOnly()); err != nil {
		t.Fatalf("Write after one 429: %v", err)
	}
	if be.count() != 2 {
		t.Errorf("%d requests, want 2", be.count())
	}
	if !strings.Contains(logs.String(), "wait=1s") {
		t.Errorf("the retry did not wait the Retry-After second; log:\n%s", logs.String())
	}
}

func TestOTLPRetryAfterBeyondDeadlineGivesUp(t *testing.T) {
	date := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	be := newBackend(t, answer{status: 503, header: map[string]string{"Retry-After": date}, body: []byte("maintenance")}, ok200())
	s := newTestOTLP(t, be.srv.URL, OTLPOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := s.Write(ctx, metricsOnly())
	if err == nil || !strings.Contains(err.Error(), "HTTP 503 Service Unavailable: maintenance") || !strings.Contains(err.Error(), "would pass the deadline") {
		t.Fatalf("err = %v, want a 503 that is not retried past the deadline", err)
	}
	if be.count() != 1 {
		t.Errorf("%d requests, want 1: an HTTP-date Retry-After an hour away must not be retried within a minute", be.count())
	}
}

func TestOTLPRetriesServiceUnavailableBurst(t *testing.T) {
	be := newBackend(t, answer{status: 503}, answer{status: 502}, answer{status: 504}, answer{status: 503}, ok200())
	s := newTestOTLP(t, be.srv.URL, OTLPOptions{})
	if err := s.Write(context.Background(), metricsOnly()); err != nil {
		t.Fatalf("Write after a burst of 4 answers 50x: %v", err)
	}
	if be.count() != 5 {
		t.Errorf("%d requests, want 5", be.count())
	}
}

func TestOTLPGivesUpAfterMaxRetries(t *testing.T) {
	be := newBackend(t, answer{status: 503, body: []byte("overloaded")})
	s := newTestOTLP(t, be.srv.URL, OTLPOptions{MaxRetries: 2})
	err := s.Write(context.Background(), metricsOnly())
	var oe *OTLPError
	if !errors.As(err, &oe) || oe.StatusCode != 503 || oe.Attempts != 3 || !oe.Temporary() {
		t.Fatalf("err = %v, want an *OTLPError 503 after 3 attempts", err)
	}
	want := fmt.Sprintf("otlp+%s: write t1/jam window 2026-11-25T10:05:00Z–2026-11-25T10:10:00Z: metrics POST %s/v1/metrics: HTTP 503 Service Unavailable: overloaded (after 3 attempts)", be.srv.URL, be.srv.URL)
	if err.Error() != want {
		t.Errorf("err =\n%s\nwant\n%s", err, want)
	}
	if be.count() != 3 {
		t.Errorf("%d requests, want 3", be.count())
	}
}

func TestOTLPPermanentErrorIsNotRetried(t *testing.T) {
	st, _ := proto.Marshal(&rpcstatus.Status{Code: 3, Message: "metric name \"executions\" is invalid"})
	for name, a := range map[string]answer{
		"rpc status": {status: 400, header: map[string]string{"Content-Type": "application/x-protobuf"}, body: st},
		"json":       {status: 400, header: map[string]string{"Content-Type": "application/json"}, body: []byte(`{"error":{"message":"metric name \"executions\" is invalid"}}`)},
		"text":       {status: 400, header: map[string]string{"Content-Type": "text/plain"}, body: []byte("metric name \"executions\"\n is invalid\n")},
	} {
		t.Run(name, func(t *testing.T) {
			be := newBackend(t, a) // every request refused as invalid
			s := newTestOTLP(t, be.srv.URL, OTLPOptions{})
			b := metricsOnly()
			var refused []Refused
			b.Refuse = func(_ context.Context, _ string, items []Refused) error {
				refused = append(refused, items...)
				return nil
			}
			err := s.Write(context.Background(), b)
			var oe *OTLPError
			if !errors.As(err, &oe) || oe.Temporary() {
				t.Fatalf("err = %v, want a permanent *OTLPError", err)
			}
			if !strings.HasSuffix(err.Error(), `HTTP 400 Bad Request: metric name "executions" is invalid`) {
				t.Errorf("err = %v, want the status and the backend's message", err)
			}
			// No request is repeated: the 4 records are asked for in halves down to single
			// records (1 + 2 + 4), and none is dead-lettered, as the backend accepted nothing.
			if be.count() != 7 || len(refused) != 0 {
				t.Errorf("%d requests, %d refused; want 7 (no retry of a 400, only its halves) and none dead-lettered", be.count(), len(refused))
			}
		})
	}
}

// TestOTLPInvalidRecordIsDeadLetteredAlone: a backend that refuses one record as invalid (400)
// gets the batch in halves until that record stands alone; it is dead-lettered and the others
// arrive. A backend that refuses everything is asked a bounded number of times.
func TestOTLPInvalidRecordIsDeadLetteredAlone(t *testing.T) {
	rcv := otlptest.Start(t)
	front := testkit.CheckingFront(t, rcv.Endpoint, func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		if zr, err := gzip.NewReader(bytes.NewReader(body)); err == nil {
			body, _ = io.ReadAll(zr)
		}
		if bytes.Contains(body, []byte("poison")) {
			http.Error(w, "attribute value poison is invalid", http.StatusBadRequest)
			return true
		}
		return false
	})
	s := newTestOTLP(t, front, OTLPOptions{})
	b := metricsOnly()
	poisoned := recordsOf(b)
	poisoned[2] = withAttr(poisoned[2], "serviceName", "poison")
	b.Series = record.Runs(poisoned)
	var refused []Refused
	b.Refuse = func(_ context.Context, _ string, items []Refused) error {
		refused = append(refused, items...)
		return nil
	}
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if n := rcv.Metrics.DataPointCount(); n != 3 {
		t.Errorf("receiver got %d data points, want the 3 valid ones", n)
	}
	if len(refused) != 1 || refused[0].Record == nil || refused[0].Record.ID != recordsOf(b)[2].ID || !strings.Contains(refused[0].Reason, "400 (invalid)") {
		t.Errorf("refused %+v, want record %s alone, refused as invalid", refused, recordsOf(b)[2].ID)
	}

	be := newBackend(t, answer{status: 400, body: []byte("no such tenant")})
	big := otlpBatch()
	for big.Len() < 200 {
		big.Series = record.Runs(append(recordsOf(big), recordsOf(metricsOnly())...))
	}
	big.Refuse = b.Refuse
	if err := newTestOTLP(t, be.srv.URL, OTLPOptions{}).Write(context.Background(), big); err == nil || !strings.Contains(err.Error(), "refused each record as invalid") {
		t.Errorf("a backend refusing everything: %v", err)
	}
	if be.count() != maxUnacceptedInvalid {
		t.Errorf("%d requests to a backend refusing everything, want %d", be.count(), maxUnacceptedInvalid)
	}
}

func TestOTLPHTMLAnswerPointsAtTheURL(t *testing.T) {
	be := newBackend(t, answer{status: 404, header: map[string]string{"Content-Type": "text/html; charset=utf-8"}, body: []byte("<html><body>Not Found</body></html>")})
	s := newTestOTLP(t, be.srv.URL+"/wrong", OTLPOptions{})
	err := s.Write(context.Background(), metricsOnly())
	if err == nil || !strings.HasSuffix(err.Error(), "/wrong/v1/metrics: HTTP 404 Not Found: the answer is an HTML page, not an OTLP response: check the host and base path of the sink spec") {
		t.Fatalf("err = %v", err)
	}
}

func TestOTLPRedirectIsNotFollowed(t *testing.T) {
	be := newBackend(t, answer{status: 308, header: map[string]string{"Location": "https://elsewhere.example.com/otlp/v1/metrics?x=1"}})
	s := newTestOTLP(t, be.srv.URL, OTLPOptions{Headers: OTLPHeaders{"Authorization": otlpSecret}})
	err := s.Write(context.Background(), metricsOnly())
	if err == nil || !strings.Contains(err.Error(), "HTTP 308 Permanent Redirect: the backend redirects to https://elsewhere.example.com/otlp/v1/metrics; use that URL in the sink spec") {
		t.Fatalf("err = %v", err)
	}
	if be.count() != 1 {
		t.Errorf("%d requests, want 1", be.count())
	}
}

func TestOTLPPartialSuccess(t *testing.T) {
	mresp := pmetricotlp.NewExportResponse()
	mresp.PartialSuccess().SetRejectedDataPoints(2)
	mresp.PartialSuccess().SetErrorMessage("2 points too old")
	mbody, _ := mresp.MarshalProto()
	lresp := plogotlp.NewExportResponse()
	lresp.PartialSuccess().SetRejectedLogRecords(1)
	lresp.PartialSuccess().SetErrorMessage("attribute too long")
	lbody, _ := lresp.MarshalJSON()
	protoCT := map[string]string{"Content-Type": "application/x-protobuf"}

	t.Run("metrics", func(t *testing.T) {
		be := newBackend(t, answer{status: 200, header: protoCT, body: mbody})
		s := newTestOTLP(t, be.srv.URL, OTLPOptions{})
		err := s.Write(context.Background(), metricsOnly())
		var pe *OTLPPartialError
		if !errors.As(err, &pe) || pe.Rejected != 2 || pe.Sent != 4 {
			t.Fatalf("err = %v, want an *OTLPPartialError rejecting 2 of 4", err)
		}
		if !strings.HasSuffix(err.Error(), "partial success: the backend rejected 2 of 4 data points: 2 points too old") {
			t.Errorf("err = %v", err)
		}
		if be.count() != 1 {
			t.Errorf("%d requests, want 1 (a partial success is not retried)", be.count())
		}
	})
	t.Run("logs as JSON", func(t *testing.T) {
		be := newBackend(t, answer{status: 200, header: map[string]string{"Content-Type": "application/json"}, body: lbody})
		s := newTestOTLP(t, be.srv.URL, OTLPOptions{})
		b := otlpBatch()
		b.Series = record.Runs(recordsOf(b)[4:])
		err := s.Write(context.Background(), b)
		if err == nil || !strings.HasSuffix(err.Error(), "partial success: the backend rejected 1 of 2 log records: attribute too long") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("allowed", func(t *testing.T) {
		be := newBackend(t, answer{status: 200, header: protoCT, body: mbody})
		var logs bytes.Buffer
		s := newTestOTLP(t, be.srv.URL, OTLPOptions{AllowPartial: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err := s.Write(context.Background(), metricsOnly()); err != nil {
			t.Fatalf("Write with AllowPartial: %v", err)
		}
		if !strings.Contains(logs.String(), "rejected=2") {
			t.Errorf("the accepted partial success was not logged: %s", logs.String())
		}
	})
	t.Run("warning only", func(t *testing.T) {
		w := pmetricotlp.NewExportResponse()
		w.PartialSuccess().SetErrorMessage("unit normalised")
		wbody, _ := w.MarshalProto()
		be := newBackend(t, answer{status: 200, header: protoCT, body: wbody})
		s := newTestOTLP(t, be.srv.URL, OTLPOptions{})
		if err := s.Write(context.Background(), metricsOnly()); err != nil {
			t.Fatalf("a partial success rejecting nothing is a success: %v", err)
		}
	})
}

func TestOTLPUnreachableBackend(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := newTestOTLP(t, "http://"+addr, OTLPOptions{MaxRetries: 1})
	err = s.Write(context.Background(), metricsOnly())
	var oe *OTLPError
	if !errors.As(err, &oe) || oe.StatusCode != 0 || oe.Attempts != 2 {
		t.Fatalf("err = %v, want an *OTLPError without status after 2 attempts", err)
	}
	if !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("err = %v, want the transport error", err)
	}
}

// TestOTLPNeverLeaksHeaders: a backend echoing the credential in its answer, every failure path
// and the debug log never show it.
func TestOTLPNeverLeaksHeaders(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, "bad credentials %q (token %s)", r.Header.Get("Authorization"), strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	}))
	defer srv.Close()
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := OTLPOptions{Headers: OTLPHeaders{"Authorization": otlpSecret}, Logger: logger}
	s := newTestOTLP(t, srv.URL, opts)
	err := s.Write(context.Background(), otlpBatch())
	if err == nil {
		t.Fatal("Write to a 401 backend succeeded")
	}
	if got.Load() != otlpSecret {
		t.Errorf("backend got Authorization %q, want the configured header", got.Load())
	}
	if !strings.Contains(err.Error(), "HTTP 401 Unauthorized: bad credentials \"[REDACTED]\" (token [REDACTED])") {
		t.Errorf("err = %v", err)
	}
	// 503 path (retries logged) too
	be := newBackend(t, answer{status: 503, body: []byte("echo " + otlpSecret)})
	s2 := newTestOTLP(t, be.srv.URL, OTLPOptions{Headers: opts.Headers, Logger: logger, MaxRetries: 1})
	err2 := s2.Write(context.Background(), otlpBatch())
	logger.Info("options", "opts", opts, "headers", opts.Headers)

	token := strings.TrimPrefix(otlpSecret, "Bearer ")
	for what, text := range map[string]string{
		"error": err.Error(), "503 error": fmt.Sprint(err2), "log": logs.String(),
		"%v": fmt.Sprintf("%v", opts), "%+v": fmt.Sprintf("%+v", opts), "%#v": fmt.Sprintf("%#v", opts),
		"%s headers": fmt.Sprintf("%s", opts.Headers), "%q headers": fmt.Sprintf("%q", opts.Headers),
	} {
		if strings.Contains(text, token) {
			t.Errorf("%s shows the credential: %s", what, text)
		}
	}
	if !strings.Contains(fmt.Sprintf("%+v", opts), "Authorization=[REDACTED]") {
		t.Errorf("%%+v of the options = %+v, want the header name with a redacted value", opts)
	}
	if b, _ := opts.Headers.MarshalJSON(); string(b) != `{"Authorization":"[REDACTED]"}` {
		t.Errorf("MarshalJSON = %s", b)
	}
}

func TestParseOTLPHeaders(t *testing.T) {
	h, err := ParseOTLPHeaders(" Authorization=Basic%20MTIzOmFiYys%2F%3D , x-scope-orgid = tenant-a,DD-API-KEY=k+1,, ")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Authorization": "Basic MTIzOmFiYys/=", "X-Scope-Orgid": "tenant-a", "Dd-Api-Key": "k+1"}
	if len(h) != len(want) {
		t.Errorf("headers = %d entries, want %d", len(h), len(want))
	}
	for k, v := range want {
		if h[k] != v {
			t.Errorf("header %s = %q, want %q", k, h[k], v)
		}
	}
	_, err = ParseOTLPHeaders("Authorization=Bearer%zzsecretvalue,novalue-secretvalue,Bad Name=secretvalue,Content-Type=x,X=a%0Asecretvalue")
	wantErr := strings.Join([]string{
		`header "Authorization": the value is not URL-encoded correctly (write % as %25)`,
		`entry 2 has no '=': write Key=Value`,
		`header "Bad Name": not a valid HTTP header name`,
		`header "Content-Type" is set by the OTLP sink and cannot be configured`,
		`header "X": the value holds characters HTTP does not allow (control characters or line breaks)`,
	}, "\n")
	if err == nil || err.Error() != wantErr {
		t.Errorf("error =\n%v\nwant\n%s", err, wantErr)
	}
	if err != nil && strings.Contains(err.Error(), "secretvalue") {
		t.Errorf("the error shows a value: %v", err)
	}
}

func TestParseOTLPHeadersJSON(t *testing.T) {
	h, err := ParseOTLPHeadersJSON([]byte(`{"Authorization":"Api-Token dt0c01.abc","x-extra":"1"}`))
	if err != nil || h["Authorization"] != "Api-Token dt0c01.abc" || h["X-Extra"] != "1" {
		t.Fatalf("headers = %v (%d), %v", h, len(h), err)
	}
	for in, want := range map[string]string{
		`{"Authorization":"s3cr3tvalue"`: `not a JSON object of header names to values (syntax error at byte 30)`,
		`["s3cr3tvalue"]`:                `not a JSON object of header names to values, e.g. {"Authorization":"Bearer ..."}`,
		`{"A":1,"B":"ok"}`:               `header "A": the value must be a JSON string`,
		`null`:                           `not a JSON object of header names to values, e.g. {"Authorization":"Bearer ..."}`,
	} {
		_, err := ParseOTLPHeadersJSON([]byte(in))
		if err == nil || err.Error() != want {
			t.Errorf("ParseOTLPHeadersJSON(%s) error = %v, want %s", in, err, want)
		}
	}
}

// TestOpenOTLPFromEnv: Open takes otlp+ specs and reads the headers from the environment.
func TestOpenOTLPFromEnv(t *testing.T) {
	be := newBackend(t, ok200())
	env := map[string]string{EnvOTLPHeaders: "Authorization=Api-Token%20abc"}
	o, err := OTLPOptionsFromEnv(context.Background(), func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), "otlp+"+be.srv.URL, Deps{OTLP: o})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if err := s.Write(context.Background(), metricsOnly()); err != nil {
		t.Fatal(err)
	}
	if got := be.reqs[0].Header.Get("Authorization"); got != "Api-Token abc" {
		t.Errorf("Authorization = %q", got)
	}

	env = map[string]string{EnvOTLPHeaders: "broken", EnvOTLPHeadersSecret: "otlp/headers", EnvOTLPAllowPartial: "yes"}
	_, err = OTLPOptionsFromEnv(context.Background(), func(k string) string { return env[k] }, nil)
	want := `CALM_OTLP_HEADERS: entry 1 has no '=': write Key=Value
CALM_OTLP_HEADERS_SECRET: secret "otlp/headers": needs an AWS configuration, and the caller gave none
CALM_OTLP_ALLOW_PARTIAL: "yes" is neither true nor false`
	if err == nil || err.Error() != want {
		t.Errorf("OTLPOptionsFromEnv error =\n%v\nwant\n%s", err, want)
	}
}

// TestOTLPHonoursProxyEnvironment runs the sink in a child process (net/http reads the proxy
// variables once per process) with HTTPS_PROXY pointing at a local proxy, then with NO_PROXY
// naming the host: the first must go through the proxy, the second must not.
func TestOTLPHonoursProxyEnvironment(t *testing.T) {
	if os.Getenv("CALM_OTLP_PROXY_CHILD") == "1" {
		s, err := NewOTLP("otlp+https://collector.invalid:4318", OTLPOptions{MaxRetries: -1})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = s.Write(ctx, metricsOnly())
		fmt.Printf("child error: %v\n", err)
		return
	}
	var connects atomic.Int32
	var target atomic.Value
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodConnect {
			connects.Add(1)
			target.Store(r.Host)
		}
		http.Error(w, "proxy says no", http.StatusForbidden)
	}))
	defer proxy.Close()
	run := func(noProxy string) string {
		cmd := exec.Command(os.Args[0], "-test.run=^TestOTLPHonoursProxyEnvironment$", "-test.count=1")
		cmd.Env = append(os.Environ(), "CALM_OTLP_PROXY_CHILD=1", "HTTPS_PROXY="+proxy.URL, "https_proxy="+proxy.URL,
			"NO_PROXY="+noProxy, "no_proxy="+noProxy)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return string(out)
	}
	out := run("")
	if connects.Load() != 1 || target.Load() != "collector.invalid:4318" {
		t.Fatalf("with HTTPS_PROXY the proxy saw %d CONNECTs (to %v), want 1 to collector.invalid:4318; child:\n%s", connects.Load(), target.Load(), out)
	}
	out = run("collector.invalid")
	if connects.Load() != 1 {
		t.Errorf("with NO_PROXY naming the host the proxy was still used; child:\n%s", out)
	}
	if !strings.Contains(out, "child error: ") || strings.Contains(out, "child error: <nil>") {
		t.Errorf("child without a reachable backend did not fail: %s", out)
	}
}

// TestOTLPHeadersFromSecretsManager reads the headers secret from moto; its headers override those
// of CALM_OTLP_HEADERS with the same name.
func TestOTLPHeadersFromSecretsManager(t *testing.T) {
	moto := awstest.Moto(t)
	ctx := context.Background()
	cfg := moto.AWSConfig(ctx)
	name := fmt.Sprintf("otlp-headers-%d", time.Now().UnixNano())
	if _, err := moto.SecretsClient().CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(name), SecretString: aws.String(`{"Authorization":"Api-Token dt0c01.SECRET","X-From-Secret":"1"}`),
	}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{EnvOTLPHeaders: "Authorization=overridden,X-Plain=p", EnvOTLPHeadersSecret: name, EnvOTLPAllowPartial: "true"}
	o, err := OTLPOptionsFromEnv(ctx, func(k string) string { return env[k] }, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := OTLPHeaders{"Authorization": "Api-Token dt0c01.SECRET", "X-From-Secret": "1", "X-Plain": "p"}
	if len(o.Headers) != len(want) || !o.AllowPartial {
		t.Fatalf("options = %+v (%d headers), want %d headers and AllowPartial", o, len(o.Headers), len(want))
	}
	for k, v := range want {
		if o.Headers[k] != v {
			t.Errorf("header %s: got the wrong value", k)
		}
	}

	env[EnvOTLPHeadersSecret] = name + "-missing"
	_, err = OTLPOptionsFromEnv(ctx, func(k string) string { return env[k] }, &cfg)
	if err == nil || !strings.Contains(err.Error(), `CALM_OTLP_HEADERS_SECRET: read secret "`+name+`-missing": `) {
		t.Errorf("missing secret: err = %v", err)
	}
}
