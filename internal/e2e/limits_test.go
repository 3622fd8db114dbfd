package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/calm-collector/calm-collector/internal/alert"
	"github.com/calm-collector/calm-collector/internal/alert/rules"
	"github.com/calm-collector/calm-collector/internal/awstest"
	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/otlptest"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/sink"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

// otlpLimit is the request size limit of the OTLP backend stand-in: a 300 KB record cannot fit,
// ten 27 KB records fit in halves.
const otlpLimit = 200 << 10

var quiet = slog.New(slog.DiscardHandler)

func ptr(f float64) *float64 { return &f }

// destinations are the sinks of a limits test, each behind a stand-in for its documented limits
// that moto and the receiver do not enforce, and the dead-letter place beside the archive.
type destinations struct {
	moto    *awstest.MotoServer
	limits  *awstest.Limits
	otlp    *otlptest.Receiver
	otlpFr  *otlptest.Limited
	queues  *sqs.Client
	queue   string
	bucket  string
	stdout  *testkit.SyncBuffer
	sinks   []collect.Sink
	dead    *sink.S3DeadLetter
	archive *sink.S3
}

func newDestinations(t *testing.T, e *env, name string, rs []rules.Rule) *destinations {
	t.Helper()
	ctx := context.Background()
	d := &destinations{moto: awstest.Moto(t), otlp: otlptest.Start(t), stdout: &testkit.SyncBuffer{}, bucket: "limits-" + name}
	d.limits = d.moto.WithLimits(t)
	d.otlpFr = d.otlp.WithLimit(t, otlpLimit)
	cfg := d.moto.AWSConfig(ctx)
	s3c := d.moto.S3Client()
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(d.bucket)}); err != nil {
		t.Fatal(err)
	}
	d.queues = sqs.NewFromConfig(cfg)
	d.queue = awstest.BusToQueue(t, eventbridge.NewFromConfig(cfg), d.queues, "bus-"+name, "q-"+name, alert.Source)
	// A client option, not cfg.BaseEndpoint: the SDK prefers the endpoint moto's configuration
	// was loaded with over a BaseEndpoint changed afterwards.
	limited := eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(d.limits.Endpoint) })
	var err error
	if d.archive, err = sink.NewS3(s3c, d.bucket, "records", quiet); err != nil {
		t.Fatal(err)
	}
	otlp, err := sink.NewOTLP("otlp+"+d.otlpFr.Endpoint, sink.OTLPOptions{Logger: quiet, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	stdout := sink.NewWriter("stdout", d.stdout)
	stdout.MaxLine = sink.CloudWatchLogsMaxLine
	d.dead = &sink.S3DeadLetter{Client: s3c, Bucket: d.bucket, Prefix: "deadletter"}
	d.sinks = []collect.Sink{d.archive, otlp, stdout,
		&alert.Sink{Bus: "bus-" + name, Events: limited, Store: e.store, Rules: rs, Now: func() time.Time { return t0 }, Logger: quiet}}
	return d
}

// run collects once into the destinations, keeping refusals in the dead-letter place.
func (d *destinations) run(e *env) collect.Summary {
	r := e.runner(time.Minute)
	r.Sinks, r.DeadLetter = d.sinks, d.dead
	return r.Run(context.Background(), collect.Request{})
}

// deadLines returns the dead-letter place's lines by sink kind.
func (d *destinations) deadLines(t *testing.T) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	for _, body := range d.objects(t, "deadletter/") {
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			var l map[string]any
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatal(err)
			}
			kind, _, _ := strings.Cut(l["sink"].(string), ":")
			out[kind] = append(out[kind], l)
		}
	}
	return out
}

// archived counts the archive's records of a monitor.
func (d *destinations) archived(t *testing.T, monitor string) int {
	t.Helper()
	n := 0
	for _, body := range d.objects(t, "records/tenant=sim/monitor="+monitor+"/") {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		n += bytes.Count(plain, []byte("\n"))
	}
	return n
}

func (d *destinations) objects(t *testing.T, prefix string) [][]byte {
	t.Helper()
	ctx := context.Background()
	s3c := d.moto.S3Client()
	list, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(d.bucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, o := range list.Contents {
		got, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(d.bucket), Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(got.Body)
		got.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// eventsOnBus returns the events the bus delivered to the queue, as detail types and details.
func (d *destinations) eventsOnBus(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, body := range awstest.DrainQueue(t, d.queues, d.queue) {
		var ev struct {
			Detail map[string]any `json:"detail"`
		}
		if err := json.Unmarshal([]byte(body), &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev.Detail)
	}
	return out
}

// serveEvents makes the tenant answer the status-events call with evs (one page).
func serveEvents(e *env, evs []sim.Event) {
	e.front.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/api/bsm-service/v1/events" {
			return false
		}
		page := evs
		if off, _ := strconv.Atoi(r.URL.Query().Get("offset")); off > 0 {
			page = nil
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Total-Count", strconv.Itoa(len(evs)))
		_ = json.NewEncoder(w).Encode(append([]sim.Event{}, page...))
		return true
	})
}

func statusEvent(i int, description string) sim.Event {
	start := t0.Add(-time.Hour + time.Duration(i)*time.Minute).Format(time.RFC3339)
	return sim.Event{EventID: fmt.Sprintf("evt-%02d", i), Type: "CloudService", EventType: "Disruption", EventName: fmt.Sprintf("Disruption %d", i),
		EventDescription: description, EventStatus: "Open", EventSource: "SAP Cloud ALM", ServiceID: "svc-1", ServiceName: "S4H.200",
		ServiceType: "S/4HANA Cloud", EventStartTime: start, LastChangedAt: start}
}

// freeText is n bytes of text that does not compress to nothing.
func freeText(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "line %d of the incident report: %x. ", i, i*2654435761)
	}
	return b.String()[:n]
}

// A 300 KB status event between two ordinary ones: the run completes, both others reach the
// bus, the OTLP backend and stdout, all three the archive; the oversize one is kept in the
// dead-letter place for each sink that cannot take it (EventBridge's 256 KB, the backend's
// 413, a CloudWatch Logs event), and counted.
func oversizeStatusEvent(t *testing.T) {
	e := newEnv(t)
	e.cfg.Monitors = []string{"status"}
	serveEvents(e, []sim.Event{statusEvent(1, "short"), statusEvent(2, freeText(300<<10)), statusEvent(3, "short too")})
	d := newDestinations(t, e, "big-status", nil)
	s := d.run(e)
	if !s.OK || len(s.Monitors) != 1 {
		t.Fatalf("run not ok: %+v", s)
	}
	m := s.Monitors[0]
	dead := d.deadLines(t)
	for _, kind := range []string{"eventbridge", "otlp+http", "stdout"} {
		if len(dead[kind]) != 1 {
			t.Errorf("%s: %d dead-letter lines, want the oversize event once", kind, len(dead[kind]))
		}
	}
	if total := len(dead["eventbridge"]) + len(dead["otlp+http"]) + len(dead["stdout"]); m.DeadLettered != total || total != 3 {
		t.Errorf("summary counts %d dead-lettered, the place holds %d lines (want 3)", m.DeadLettered, total)
	}
	if l := dead["otlp+http"]; len(l) == 1 && !strings.Contains(fmt.Sprint(l[0]["record"]), "evt-02") {
		t.Errorf("the OTLP dead letter is not the oversize event: %.200v", l[0])
	}
	bus := d.eventsOnBus(t)
	if len(bus) != 2 || bus[0]["eventId"] != "evt-01" || bus[1]["eventId"] != "evt-03" {
		t.Errorf("the bus delivered %d events, want evt-01 and evt-03: %.300v", len(bus), bus)
	}
	if n := d.archived(t, "status"); n != 3 {
		t.Errorf("archive holds %d status records, want all 3 (S3 has no limit that matters)", n)
	}
	if n := d.otlp.Logs.LogRecordCount(); n != 2 {
		t.Errorf("the OTLP backend received %d log records, want the 2 that fit", n)
	}
	if n := strings.Count(d.stdout.String(), "\n"); n != 2 {
		t.Errorf("stdout has %d lines, want the 2 that fit a CloudWatch Logs event", n)
	}
	if d.limits.Refused.Load() != 0 {
		t.Errorf("EventBridge refused %d requests: the sink sent one over the limits", d.limits.Refused.Load())
	}
}

// Ten events of 27 KB each fit alone but not together in one PutEvents request (270 KB) nor in
// one request to the backend: every one arrives, in two requests each, and nothing is dead-lettered.
func tenLargeEvents(t *testing.T) {
	e := newEnv(t)
	e.cfg.Monitors = []string{"status"}
	var evs []sim.Event
	for i := range 10 {
		evs = append(evs, statusEvent(i, freeText(27<<10)))
	}
	serveEvents(e, evs)
	d := newDestinations(t, e, "ten", nil)
	s := d.run(e)
	if !s.OK || s.Monitors[0].DeadLettered != 0 {
		t.Fatalf("run: %+v", s)
	}
	if bus := d.eventsOnBus(t); len(bus) != 10 {
		t.Errorf("the bus delivered %d events, want 10", len(bus))
	}
	if n := d.otlp.Logs.LogRecordCount(); n != 10 {
		t.Errorf("the OTLP backend received %d log records, want 10", n)
	}
	if d.otlpFr.TooLarge.Load() == 0 {
		t.Error("the backend never answered 413: the case proves nothing about splitting")
	}
	if len(d.deadLines(t)) != 0 || d.limits.Refused.Load() != 0 {
		t.Errorf("dead letters %v, EventBridge refusals %d: want none", d.deadLines(t), d.limits.Refused.Load())
	}
}

// One data point of a series under an alert rule carries a 300 KB attribute: its firing event
// and its OTLP point cannot fit and are dead-lettered; every other series' firing event reaches
// the bus, every other point the backend, and the run completes.
func oversizeAttributeUnderARule(t *testing.T) {
	e := newEnv(t)
	e.cfg.Monitors = []string{"hm"}
	end := t0.Add(-e.cfg.Lag).Truncate(e.cfg.Resolution)
	pts := e.sim.Expected("hm", end.Add(-e.cfg.Lookback), end, e.cfg.Resolution)
	measure := pts[0].Measure
	var injected atomic.Bool
	// Only the collection's pages: not the first run's probe of from/to (an older hour).
	span := end.Add(-e.cfg.Lookback).UTC().Format("20060102150405")
	e.front.setOverride(rewritePagesIf(e, func(r *http.Request) bool {
		return !injected.Load() && r.URL.Query().Get("from") == span
	}, func(_ http.Header, body []byte) []byte {
		md, err := (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics(body)
		if err != nil || !addAttribute(md, measure, "note", freeText(300<<10)) {
			return body
		}
		injected.Store(true)
		out, _ := (&pmetric.JSONMarshaler{}).MarshalMetrics(md)
		return out
	}))
	always := []rules.Rule{{Name: "any", Monitor: "hm", Metric: measure, Op: ">=", Threshold: ptr(-1e18)}}
	d := newDestinations(t, e, "attr", always)
	s := d.run(e)
	if !injected.Load() {
		t.Fatal("the 300 KB attribute was never served: the case proves nothing")
	}
	if !s.OK {
		t.Fatalf("run not ok: %+v", s)
	}
	dead := d.deadLines(t)
	if len(dead["eventbridge"]) != 1 || len(dead["otlp+http"]) != 1 || len(dead["stdout"]) != 1 {
		t.Errorf("dead letters by sink: eventbridge %d, otlp %d, stdout %d; want 1 each", len(dead["eventbridge"]), len(dead["otlp+http"]), len(dead["stdout"]))
	}
	if s.Monitors[0].DeadLettered != 3 {
		t.Errorf("summary counts %d dead-lettered, want 3", s.Monitors[0].DeadLettered)
	}
	series := map[string]bool{}
	for _, p := range pts {
		if p.Measure == measure {
			series[fmt.Sprint(p.Merged())] = true
		}
	}
	bus := d.eventsOnBus(t)
	if len(bus) != len(series) {
		t.Errorf("the bus delivered %d firing events, want one per series of %s other than the oversize one: %d", len(bus), measure, len(series))
	}
	for _, ev := range bus {
		if ev["state"] != "firing" {
			t.Errorf("event %.200v", ev)
		}
	}
	if got, want := d.otlp.Metrics.DataPointCount(), s.Monitors[0].Points-1; got != want {
		t.Errorf("the OTLP backend received %d points, want every point but the oversize one: %d", got, want)
	}
	if n := d.archived(t, "hm"); n != s.Monitors[0].Points {
		t.Errorf("archive holds %d hm records, want all %d", n, s.Monitors[0].Points)
	}
}

// addAttribute sets key=value on the first data point of a metric of measure (its name, or its
// description when the tenant names metrics otherwise); false when there is none.
func addAttribute(md pmetric.Metrics, measure, key, value string) bool {
	for i := range md.ResourceMetrics().Len() {
		sms := md.ResourceMetrics().At(i).ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				m := ms.At(k)
				if m.Name() != measure && m.Description() != measure {
					continue
				}
				switch m.Type() {
				case pmetric.MetricTypeGauge:
					if m.Gauge().DataPoints().Len() > 0 {
						m.Gauge().DataPoints().At(0).Attributes().PutStr(key, value)
						return true
					}
				case pmetric.MetricTypeSum:
					if m.Sum().DataPoints().Len() > 0 {
						m.Sum().DataPoints().At(0).Attributes().PutStr(key, value)
						return true
					}
				}
			}
		}
	}
	return false
}
