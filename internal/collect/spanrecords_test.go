package collect

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/sink"
	"github.com/calm-collector/calm-collector/internal/state"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

// Every field of a record comes back from spanRecords as it went in: a field added to
// record.Point that spanRecords does not carry makes this test fail.
func TestSpanRecordsKeepEveryField(t *testing.T) {
	span := Range{From: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)}
	full := record.Record{Series: record.NewSeries("t", "hm", record.KindMetric, "m", "%", true, map[string]string{"k": "v"})}
	v := reflect.ValueOf(&full.Point).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("s" + v.Type().Field(i).Name)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Float64:
			f.SetFloat(42.5)
		case reflect.Struct:
			if f.Type() != reflect.TypeOf(time.Time{}) {
				t.Fatalf("record field %s of type %s: teach this test (and spanRecords) about it", v.Type().Field(i).Name, f.Type())
			}
			f.Set(reflect.ValueOf(span.From.Add(7 * time.Minute)))
		default:
			t.Fatalf("record field %s of kind %s: teach this test (and spanRecords) about it", v.Type().Field(i).Name, f.Kind())
		}
	}
	bare := record.Record{Point: record.Point{ID: "bare", Time: span.From.Add(8 * time.Minute)}} // zero values
	empty := record.Record{Series: record.NewSeries("", "", "", "", "", false, nil), Point: record.Point{ID: "empty", Time: span.From.Add(9 * time.Minute)}}
	// ids are kept as 16 bytes when they are 32 lowercase hex digits (as record ids are), as
	// text otherwise: both come back as they went in
	at := span.From.Add(6 * time.Minute)
	hexed := record.Record{Point: record.Point{ID: record.PointID("t", "hm", "cpu", nil, at), Time: at, Body: "a body"}}
	upper := record.Record{Point: record.Point{ID: strings.ToUpper(hexed.ID), Time: at}}
	s := newSpanRecords(span, 5*time.Minute)
	for _, r := range []record.Record{full, bare, empty, hexed, upper} {
		s.add(int(r.Time.Sub(span.From)/(5*time.Minute)), r)
	}
	got := recordsOfRuns(s.batch(1))
	if want := []record.Record{full, bare, empty, hexed, upper}; !reflect.DeepEqual(got, want) {
		t.Errorf("window 1 =\n%#v\nwant\n%#v", got, want)
	}
	if got[0].Series != full.Series {
		t.Errorf("the series came back as another *Series")
	}
	if got := s.batch(1); got != nil {
		t.Errorf("window 1 again = %v, want nil (let go of once delivered)", got)
	}
}

// Records of one series share one *record.Series across the windows of a span, also when two
// series alternate (a histogram's .count and .sum): the store holds each series once and gives
// every record back its own.
func TestSpanRecordsShareAttributesPerSeries(t *testing.T) {
	span := Range{From: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)}
	res := 5 * time.Minute
	s := newSpanRecords(span, res)
	var in []record.Record
	for svc := range 3 {
		var series []*record.Series
		for _, name := range []string{"d.count", "d.sum"} {
			series = append(series, record.NewSeries("t", "hm", record.KindMetric, name, "", false, map[string]string{"serviceId": fmt.Sprint("s", svc), "region": "eu10"}))
		}
		for w := range 12 {
			for _, sr := range series {
				r := record.Record{Series: sr, Point: record.Point{ID: fmt.Sprint(svc, w, sr.Name()), Time: span.From.Add(time.Duration(w) * res), Value: float64(w), HasValue: true}}
				in = append(in, r)
				s.add(w, r)
			}
		}
	}
	if len(s.series) != 6 {
		t.Errorf("%d series held, want 6 (3 services × count and sum)", len(s.series))
	}
	var out []record.Record
	for w := range 12 {
		out = append(out, recordsOfRuns(s.batch(w))...)
	}
	if len(out) != len(in) {
		t.Fatalf("%d records out, %d in", len(out), len(in))
	}
	byID := map[string]record.Record{}
	for _, r := range in {
		byID[r.ID] = r
	}
	for _, r := range out {
		if want := byID[r.ID]; r != want {
			t.Errorf("record %s =\n%#v\nwant\n%#v", r.ID, r, want)
		}
	}
}

// spanClient answers every metrics query with no points; it reports each query's start on
// asked and, for the spans hold selects, answers only once the query's context is done.
type spanClient struct {
	cannedClient
	asked   chan time.Time
	hold    func(from time.Time) bool
	running atomic.Int32
	ended   chan error // causes of the held queries, as they end
}

func (c *spanClient) Metrics(ctx context.Context, q calm.MetricsQuery) iter.Seq2[calm.MetricsPage, error] {
	return func(yield func(calm.MetricsPage, error) bool) {
		c.running.Add(1)
		defer c.running.Add(-1)
		c.asked <- q.From
		if c.hold != nil && c.hold(q.From) {
			<-ctx.Done()
			c.ended <- ctx.Err()
			yield(calm.MetricsPage{}, ctx.Err())
			return
		}
		yield(calm.MetricsPage{Metrics: pmetric.NewMetrics()}, nil)
	}
}

func spanRunner(t *testing.T, c Client, s Sink) *Runner {
	store, err := state.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Monitors = []string{"hm"}
	return &Runner{Config: cfg, Tenant: "t", Client: c, Scopes: scopeSet{}, Store: store, Sinks: []Sink{s},
		Now: func() time.Time { return t0 }, Logger: quiet}
}

// While a span's windows are delivered, the next span's request series is already running.
func TestNextSpanIsFetchedWhileASpanIsDelivered(t *testing.T) {
	from := ts("2026-11-25T06:00:00Z")
	c := &spanClient{asked: make(chan time.Time, 10)}
	var asked []time.Time
	s := &testkit.MemSink[sink.Batch]{Fail: func(b sink.Batch) bool {
		if b.From.Equal(from) { // the first window of the first span: wait for the second span's series
			deadline := time.After(10 * time.Second)
			for {
				select {
				case f := <-c.asked:
					asked = append(asked, f)
					if f.Equal(from.Add(time.Hour)) {
						return false
					}
				case <-deadline:
					t.Errorf("the next span was not asked for while the first was delivered (asked %v)", asked)
					return false
				}
			}
		}
		return false
	}}
	sum := spanRunner(t, c, s).Run(context.Background(), Request{Backfill: &Range{From: from, To: from.Add(3 * time.Hour)}})
	mustOK(t, sum)
	if m := sum.Monitors[0]; m.Windows != 36 {
		t.Errorf("%d windows delivered, want 36", m.Windows)
	}
	var last time.Time
	for _, b := range s.Batches() {
		if !b.From.After(last) && !last.IsZero() {
			t.Errorf("window %s delivered after %s: out of order", b.From, last)
		}
		last = b.From
	}
}

// The client hands a span's series off once the answer to its last request is in
// (calm.Client.Handoff): the next span's series starts then, before the span is decoded and
// checked. Each span's check for a cut (two limit=1 counts, asked beside its pages) is answered
// only once the next span's first page has been asked for: without the handoff the run would
// wait for it in vain.
func TestNextSpanStartsWhenTheLastAnswerIsIn(t *testing.T) {
	e := newEnv(t, "hm")
	from := ts("2026-11-25T06:00:00Z")
	rng := Range{From: from, To: from.Add(3 * time.Hour)}
	var mu sync.Mutex
	asked := map[time.Time]chan struct{}{} // a span's first page asked for
	firstPage := func(f time.Time) chan struct{} {
		mu.Lock()
		defer mu.Unlock()
		if asked[f] == nil {
			asked[f] = make(chan struct{})
		}
		return asked[f]
	}
	var early atomic.Int32
	hold := roundTrip(func(r *http.Request) (*http.Response, error) {
		q := r.URL.Query()
		f, _ := time.Parse(calm.TimeLayout, q.Get("from"))
		switch {
		case !strings.HasSuffix(r.URL.Path, "/calm-metrics/v1/metrics"):
		case q.Get("limit") != "1" && q.Get("offset") == "0" && q.Get("limit") != fmt.Sprint(fromToProbeLimit):
			close(firstPage(f))
		case q.Get("limit") == "1" && f.Truncate(time.Hour).Add(time.Hour).Before(rng.To):
			select {
			case <-firstPage(f.Truncate(time.Hour).Add(time.Hour)):
				early.Add(1)
			case <-time.After(10 * time.Second):
				t.Errorf("the span after %s was not asked for before its check for a cut", f)
			}
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	useHourSpans(t, e, hold)
	sum := e.r.Run(context.Background(), Request{Backfill: &rng})
	mustOK(t, sum)
	if m := sum.Monitors[0]; m.Windows != 36 {
		t.Errorf("%d windows delivered, want 36", m.Windows)
	}
	if n := early.Load(); n != 4 {
		t.Errorf("%d checks for a cut came after the next span's first page, want 4 (2 spans × 2 halves)", n)
	}
}

// A span's check for a cut (the counts of its halves) is asked beside its pages, not after
// them: each span's last page is answered only once both counts of the span have been asked
// for, so a run that asked them after its pages would wait in vain.
func TestCutCheckIsAskedBesideThePages(t *testing.T) {
	e := newEnv(t, "hm")
	from := ts("2026-11-25T06:00:00Z")
	rng := Range{From: from, To: from.Add(2 * time.Hour)}
	var mu sync.Mutex
	counts := map[time.Time]int{}
	counted := map[time.Time]chan struct{}{} // closed once both counts of the span were asked for
	countedOf := func(span time.Time) chan struct{} {
		if counted[span] == nil {
			counted[span] = make(chan struct{})
		}
		return counted[span]
	}
	var waited atomic.Int32
	hold := roundTrip(func(r *http.Request) (*http.Response, error) {
		q := r.URL.Query()
		f, _ := time.Parse(calm.TimeLayout, q.Get("from"))
		span := f.Truncate(time.Hour)
		switch {
		case !strings.HasSuffix(r.URL.Path, "/calm-metrics/v1/metrics"):
		case q.Get("limit") == "1":
			mu.Lock()
			if counts[span]++; counts[span] == 2 {
				close(countedOf(span))
			}
			mu.Unlock()
		case q.Get("offset") == "1000": // a span's last page: 1,080 points in pages of 500
			mu.Lock()
			ch := countedOf(span)
			mu.Unlock()
			select {
			case <-ch:
				waited.Add(1)
			case <-time.After(10 * time.Second):
				t.Errorf("the last page of the span at %s was asked for before its check for a cut, which waited for it", span)
			}
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	useHourSpans(t, e, hold)
	mustOK(t, e.r.Run(context.Background(), Request{Backfill: &rng}))
	if n := waited.Load(); n != 2 {
		t.Errorf("%d last pages answered after their span's check for a cut was asked for, want 2 (one a span)", n)
	}
}

// useHourSpans makes e's runner read spans of an hour through a client whose requests go
// through rt, in pages of 500 points: a span of hm (1,080) is three, the first full (it tells
// the unit).
func useHourSpans(t *testing.T, e *env, rt http.RoundTripper) {
	t.Helper()
	settings, _, err := calm.ParseSettings(e.sim.ConnectorJSON())
	if err != nil {
		t.Fatal(err)
	}
	c, err := calm.New(settings, calm.Options{HTTPClient: &http.Client{Transport: rt}, Logger: quiet, PageSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	e.r.Client, e.r.Scopes = c, c.Tokens()
	e.r.Config.Span = time.Hour
}

// roundTrip is an http.RoundTripper of a function.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A delivery that fails ends the run with its error; the span fetched ahead is cancelled and
// its series has ended when Run returns. Nothing of it is delivered.
func TestFailedDeliveryCancelsTheSpanFetchedAhead(t *testing.T) {
	from := ts("2026-11-25T06:00:00Z")
	c := &spanClient{asked: make(chan time.Time, 10), ended: make(chan error, 10),
		hold: func(f time.Time) bool { return f.Equal(from.Add(time.Hour)) }}
	s := &testkit.MemSink[sink.Batch]{Fail: func(b sink.Batch) bool {
		if b.From.Equal(from.Add(5 * time.Minute)) {
			deadline := time.After(10 * time.Second)
			for { // fail only once the next span's series is running
				select {
				case f := <-c.asked:
					if f.Equal(from.Add(time.Hour)) {
						return true
					}
				case <-deadline:
					t.Error("the next span was not asked for while the first was delivered")
					return true
				}
			}
		}
		return false
	}}
	sum := spanRunner(t, c, s).Run(context.Background(), Request{Backfill: &Range{From: from, To: from.Add(3 * time.Hour)}})
	if m := sum.Monitors[0]; !strings.Contains(m.Error, "disk full") || m.Windows != 1 {
		t.Errorf("summary %+v, want the sink's error after 1 window", m)
	}
	if n := c.running.Load(); n != 0 {
		t.Errorf("%d request series still running after Run returned", n)
	}
	select {
	case err := <-c.ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the span fetched ahead ended with %v, want context.Canceled", err)
		}
	default:
		t.Error("the span fetched ahead did not end before Run returned")
	}
	for _, b := range s.Batches() {
		if !b.From.Before(from.Add(time.Hour)) {
			t.Errorf("window %s of the span fetched ahead was delivered", b.From)
		}
	}
}

// A record read twice (the pager re-reads rather than skips) is kept once; a record whose id
// another content has is a collision: counted, reported with an example, the first kept.
func TestSpanRecordsDropRepeatsAndCountCollisions(t *testing.T) {
	from := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	s := newSpanRecords(Range{From: from, To: from.Add(10 * time.Minute)}, 5*time.Minute)
	r := record.Record{Series: record.NewSeries("t", "hm", record.KindMetric, "value", "", false, nil), Point: record.Point{ID: "a", Time: from, Value: 1, HasValue: true}}
	s.add(0, r)
	s.add(0, r)
	other := r
	other.Series, other.Value = record.NewSeries("t", "hm", record.KindMetric, "usage", "", false, nil), 2
	s.add(0, other)
	// every NaN alike: a repeat; another body: a collision
	nan := r
	nan.ID, nan.Value = "n", math.NaN()
	s.add(0, nan)
	nan.Value = math.Float64frombits(math.Float64bits(math.NaN()) ^ 1)
	s.add(0, nan)
	logLine := record.Record{Series: record.NewSeries("t", "logs", record.KindLog, "log", "", false, nil), Point: record.Point{ID: "l", Time: from, Body: "x"}}
	s.add(0, logLine)
	logLine.Body = "y"
	s.add(0, logLine)
	s.seal()
	got := recordsOfRuns(s.batch(0))
	if len(got) != 3 || got[0].Name() != "value" || got[2].Body != "x" || s.repeats != 2 || s.collisions != 2 || !strings.Contains(s.collision, "id a: usage") {
		t.Errorf("kept %d records, repeats %d, collisions %d (%q); want the first of each id once, 2 repeats, 2 collisions, the first named",
			len(got), s.repeats, s.collisions, s.collision)
	}
}

// recordsOfRuns returns the records of runs in their order.
func recordsOfRuns(runs []record.Run) []record.Record {
	var out []record.Record
	for _, r := range runs {
		for i := range r.Points {
			out = append(out, r.Record(i))
		}
	}
	return out
}
