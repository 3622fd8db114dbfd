package calm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// A server whose x-total-count grows with every page (and never runs dry) fails the window with
// ErrTotalChanged after maxRestarts readings from the start, not at the hard cap.
func TestMetricsTotalGrowingEveryPageFails(t *testing.T) {
	tn := newTenant(t)
	const limit = 3
	var calls int
	n := metricsServer(t, tn, baseMetricsQuery(fmt.Sprint(limit)), func(offset int) ([]byte, int) {
		calls++
		var dps []string
		for i := offset; i < offset+limit; i++ {
			dps = append(dps, fmt.Sprintf(`{"timeUnixNano":"%d","asDouble":%d}`, 1795687200000000000+int64(i)*1e9, i))
		}
		body := `{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"value","gauge":{"dataPoints":[` + strings.Join(dps, ",") + `]}}]}]}]}`
		return []byte(body), 10 + calls // one more every request
	})
	r := collectMetrics(tn.client(func(o *Options) { o.PageSize = limit }), MetricsQuery{Provider: "hm", From: winFrom, To: winTo})
	if !errors.Is(r.err, ErrTotalChanged) {
		t.Fatalf("err = %v, want ErrTotalChanged", r.err)
	}
	if got := n.Load(); got != maxRestarts+2 {
		t.Errorf("server saw %d requests, want %d", got, maxRestarts+2)
	}
	want := "metrics hm 20261125100000–20261125100500: x-total-count changed from 13 to 14 at offset 0 (x-correlationid corr-0), 3 times while paging (limit 3); the window is held and read again next run: x-total-count kept changing while paging"
	if r.err.Error() != want {
		t.Errorf("err =\n%v\nwant\n%s", r.err, want)
	}
}

// A total that shrinks once after the first page (rows went away) must not end paging early
// nor skip rows that moved before the offset: the pager reads again from the start.
func TestMetricsTotalShrinkingDoesNotSkipRows(t *testing.T) {
	tn := newTenant(t)
	const limit = 3
	rows := 8
	n := metricsServer(t, tn, baseMetricsQuery(fmt.Sprint(limit)), func(offset int) ([]byte, int) {
		var dps []string
		for i := offset; i < min(offset+limit, rows); i++ {
			dps = append(dps, fmt.Sprintf(`{"timeUnixNano":"%d","asDouble":%d}`, 1795687200000000000+int64(i)*1e9, i))
		}
		body := `{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"value","gauge":{"dataPoints":[` + strings.Join(dps, ",") + `]}}]}]}]}`
		total := rows
		rows = 5 // the first page counted 8; from now on there are 5
		return []byte(body), total
	})
	r := collectMetrics(tn.client(func(o *Options) { o.PageSize = limit }), MetricsQuery{Provider: "hm", From: winFrom, To: winTo})
	// 0 (total 8), 3 (total 5: read again), 0, 3 (of 5)
	if r.err != nil || n.Load() != 4 || !slices.Equal(r.offsets, []int{0, 0, 3}) || r.points != 3+5 {
		t.Errorf("offsets %v, points %d in %d requests, err %v; want offsets [0 0 3], 8 points (3 of them again) in 4 requests", r.offsets, r.points, n.Load(), r.err)
	}
	if !strings.Contains(tn.logs.String(), "total count changed while paging") {
		t.Errorf("the change of the total is not logged:\n%s", tn.logs)
	}
}

// fakeCollection is a limit/offset collection of the rows 0..total-1 behind a fetchAnswer,
// without HTTP: it records the offsets asked for and how many fetches are running.
type fakeCollection struct {
	limit, total int
	// guess, when set, is the item count the network part claims (default: the true count).
	guess func(offset int) int
	// count, when set, is the number of rows a page at offset really holds (default: up to limit).
	count func(offset int) int
	// hold, when set, is called in the network part before it answers (it may block on ctx).
	hold func(ctx context.Context, offset int) error

	mu      sync.Mutex
	asked   []int
	causes  map[int]error // context cause seen by a fetch that ended with its context done
	running atomic.Int32
	askedCh chan int
	// onDecode, when set, runs when the page at offset is decoded; its error is the decode's.
	onDecode func(offset int) error
	// held counts answers asked for and not yet decoded; maxHeld is its peak.
	held, maxHeld atomic.Int32
}

func newFakeCollection(limit, total int) *fakeCollection {
	return &fakeCollection{limit: limit, total: total, causes: map[int]error{}, askedCh: make(chan int, 100)}
}

func (f *fakeCollection) fetch(ctx context.Context, offset int) (answer[int], error) {
	f.running.Add(1)
	defer f.running.Add(-1)
	if h := f.held.Add(1); h > f.maxHeld.Load() {
		f.maxHeld.Store(h) // fetches run one at a time: no lost update
	}
	f.mu.Lock()
	f.asked = append(f.asked, offset)
	f.mu.Unlock()
	f.askedCh <- offset
	if f.hold != nil {
		if err := f.hold(ctx, offset); err != nil {
			f.mu.Lock()
			f.causes[offset] = context.Cause(ctx)
			f.mu.Unlock()
			f.held.Add(-1)
			return answer[int]{}, err
		}
	}
	n := min(f.limit, max(0, f.total-offset))
	if f.count != nil {
		n = f.count(offset)
	}
	guess := n
	if f.guess != nil {
		guess = f.guess(offset)
	}
	var items []int
	for i := range n {
		items = append(items, offset+i)
	}
	return answer[int]{total: f.total, hash: bodyHash([]byte(fmt.Sprint(items))), bytes: n, items: guess,
		decode: func() (decoded[int], error) {
			defer f.held.Add(-1)
			if f.onDecode != nil {
				if err := f.onDecode(offset); err != nil {
					return decoded[int]{}, err
				}
			}
			return decoded[int]{items: items, count: n, rows: n}, nil
		}}, nil
}

func (f *fakeCollection) askedOffsets() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.asked)
}

// waitAsked waits until the collection was asked for offset; a pager that never asks fails
// the test instead of hanging it.
func (f *fakeCollection) waitAsked(t *testing.T, offset int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case o := <-f.askedCh:
			if o == offset {
				return
			}
		case <-deadline:
			t.Fatalf("offset %d was never asked for (asked %v)", offset, f.askedOffsets())
		}
	}
}

// noGoroutineLeak fails when the number of goroutines does not come back to before (it waits
// for goroutines that are on their way out, then lists what is left).
func noGoroutineLeak(t *testing.T, before int) {
	t.Helper()
	for range 500 {
		if runtime.NumGoroutine() <= before {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	t.Errorf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// From the second page on (from the first with allPages), the request for the next page goes
// out while a full page is used; without allPages the first page does not ask ahead, and no
// page is asked for that paging does not need.
func TestPagesAsksForTheNextPageWhileAPageIsUsed(t *testing.T) {
	for _, allPages := range []bool{false, true} {
		t.Run(fmt.Sprint("allPages=", allPages), func(t *testing.T) {
			f := newFakeCollection(3, 11) // pages at 0, 3, 6, 9 (short)
			var got, offsets []int
			for p, err := range (pager[int]{logger: quietLogger(), what: "rows", limit: 3, maxPages: 100, allPages: allPages}).pages(context.Background(), whole(f.fetch)) {
				if err != nil {
					t.Fatal(err)
				}
				offsets = append(offsets, p.offset)
				switch {
				case p.offset == 0 && !allPages:
					if a := f.askedOffsets(); !slices.Equal(a, []int{0}) {
						t.Errorf("while the first page is used, asked %v; want only [0]", a)
					}
				case p.offset < 9:
					f.waitAsked(t, p.offset+3) // blocks (and fails) unless the next page was asked for already
				}
				got = append(got, p.items...)
			}
			if want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}; !slices.Equal(got, want) {
				t.Errorf("rows %v, want %v", got, want)
			}
			if a := f.askedOffsets(); !slices.Equal(a, []int{0, 3, 6, 9}) || !slices.Equal(offsets, a) {
				t.Errorf("asked %v, yielded %v; want [0 3 6 9] both", a, offsets)
			}
		})
	}
}

// A page that its network part counted full but that decodes short sends paging on at the
// offset after its last row, exactly as without asking ahead: the page asked for ahead is
// cancelled (with errPrefetchDiscarded as the cause) and not used. No row is lost or repeated.
func TestPagesDiscardsThePageAskedAheadWhenAPageIsShort(t *testing.T) {
	f := newFakeCollection(3, 10)
	f.count = func(offset int) int {
		if offset == 3 {
			return 2 // a short page in the middle
		}
		return min(3, 10-offset)
	}
	f.guess = func(int) int { return 3 } // the network part thinks every page is full
	f.hold = func(ctx context.Context, offset int) error {
		if offset == 6 { // the page asked for ahead of the short one: wait until discarded
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}
	f.onDecode = func(offset int) error {
		if offset == 3 {
			f.waitAsked(t, 6) // the page ahead is on its way when the short one is decoded
		}
		return nil
	}
	before := runtime.NumGoroutine()
	var got, offsets []int
	for p, err := range (pager[int]{logger: quietLogger(), what: "rows", limit: 3, maxPages: 100, allPages: false}).pages(context.Background(), whole(f.fetch)) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.items...)
		offsets = append(offsets, p.offset)
	}
	if want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}; !slices.Equal(got, want) {
		t.Errorf("rows %v, want %v (no gap, no duplicate)", got, want)
	}
	if want := []int{0, 3, 5, 8}; !slices.Equal(offsets, want) {
		t.Errorf("pages at %v, want %v", offsets, want)
	}
	if a := f.askedOffsets(); !slices.Contains(a, 6) {
		t.Errorf("asked %v: the page at 6 was not asked for ahead", a)
	}
	if cause := f.causes[6]; !errors.Is(cause, errPrefetchDiscarded) {
		t.Errorf("the page asked ahead ended with cause %v, want errPrefetchDiscarded", cause)
	}
	if n := f.running.Load(); n != 0 {
		t.Errorf("%d fetches still running after the iteration", n)
	}
	noGoroutineLeak(t, before)
}

// A caller that stops, and a context cancelled, while a page asked for ahead is in flight:
// the request is cancelled and its goroutine waited for before the iteration returns.
func TestPagesStopsTheRequestAheadWithTheIteration(t *testing.T) {
	hold := func(ctx context.Context, offset int) error {
		if offset >= 6 {
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}
	t.Run("caller stops", func(t *testing.T) {
		f := newFakeCollection(3, 30)
		f.hold = hold
		before := runtime.NumGoroutine()
		for p, err := range (pager[int]{logger: quietLogger(), what: "rows", limit: 3, maxPages: 100, allPages: false}).pages(context.Background(), whole(f.fetch)) {
			if err != nil {
				t.Fatal(err)
			}
			if p.offset == 3 {
				f.waitAsked(t, 6)
				break
			}
		}
		if n := f.running.Load(); n != 0 {
			t.Errorf("%d fetches still running after the caller stopped", n)
		}
		if !errors.Is(f.causes[6], errPrefetchDiscarded) {
			t.Errorf("cause %v, want errPrefetchDiscarded", f.causes[6])
		}
		noGoroutineLeak(t, before)
	})
	t.Run("context cancelled", func(t *testing.T) {
		f := newFakeCollection(3, 30)
		f.hold = hold
		before := runtime.NumGoroutine()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var last error
		for p, err := range (pager[int]{logger: quietLogger(), what: "rows", limit: 3, maxPages: 100, allPages: false}).pages(ctx, whole(f.fetch)) {
			if err != nil {
				last = err
				break
			}
			if p.offset == 3 {
				f.waitAsked(t, 6)
				cancel()
			}
		}
		if !errors.Is(last, context.Canceled) || !strings.HasPrefix(last.Error(), "rows at offset 6: ") {
			t.Errorf("err = %v, want context.Canceled at offset 6", last)
		}
		if n := f.running.Load(); n != 0 {
			t.Errorf("%d fetches still running after the context ended", n)
		}
		noGoroutineLeak(t, before)
	})
}

// An error of a page asked for ahead is reported as that page's error, once it is needed.
func TestPagesReportsTheErrorOfThePageAskedAhead(t *testing.T) {
	boom := errors.New("boom")
	f := newFakeCollection(3, 30)
	f.hold = func(_ context.Context, offset int) error {
		if offset == 6 {
			return boom
		}
		return nil
	}
	var offsets []int
	var last error
	for p, err := range (pager[int]{logger: quietLogger(), what: "rows", limit: 3, maxPages: 100, allPages: false}).pages(context.Background(), whole(f.fetch)) {
		if err != nil {
			last = err
			break
		}
		offsets = append(offsets, p.offset)
	}
	if !errors.Is(last, boom) || last.Error() != "rows at offset 6: boom" || !slices.Equal(offsets, []int{0, 3}) {
		t.Errorf("pages %v, err %v; want [0 3] and \"rows at offset 6: boom\"", offsets, last)
	}
}

// A request asked ahead and then not needed is counted in Stats.Requests (it was sent) but not
// as an error; the server saw it.
func TestMetricsStatsCountARequestAheadThatWasNotNeeded(t *testing.T) {
	tn := newTenant(t)
	const limit = 3
	seen := make(chan int, 10)
	var n atomic.Int32
	tn.mux.HandleFunc("GET /api/calm-metrics/v1/metrics", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		seen <- offset
		if offset == 6 { // the page asked ahead: answered only after the client gave up on it
			<-r.Context().Done()
			return
		}
		var dps []string
		for i := offset; i < offset+limit; i++ {
			dps = append(dps, fmt.Sprintf(`{"timeUnixNano":"%d","asDouble":%d}`, 1795687200000000000+int64(i)*1e9, i))
		}
		writeJSON(w, 30, []byte(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"value","gauge":{"dataPoints":[`+strings.Join(dps, ",")+`]}}]}]}]}`))
	})
	c := tn.client(func(o *Options) { o.PageSize = limit })
	for p, err := range c.Metrics(context.Background(), MetricsQuery{Provider: "hm", From: winFrom, To: winTo}) {
		if err != nil {
			t.Fatal(err)
		}
		if p.Offset == 3 {
			for o := range seen {
				if o == 6 {
					break
				}
			}
			break
		}
	}
	if s := c.Stats(); s.Requests != 3 || s.Errors != 0 || n.Load() != 3 {
		t.Errorf("stats %+v, server saw %d; want 3 requests, no error, 3 seen", s, n.Load())
	}
}

func TestCountDataPoints(t *testing.T) {
	for _, name := range []string{"metrics_hm_page1.json", "metrics_hm_page2.json", "metrics_empty.json"} {
		b := readTestdata(t, name)
		md, err := (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics(b)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := countDataPoints(b), md.DataPointCount(); got != want {
			t.Errorf("%s: countDataPoints = %d, DataPointCount = %d", name, got, want)
		}
	}
	for body, want := range map[string]int{
		``:                                       0,
		`{}`:                                     0,
		`{"dataPoints":[]}`:                      0,
		`{"dataPoints" : [ {}, {"a":[{},{}]} ]}`: 2,
		`{"data_points":[{},{}],"x":{"dataPoints":[{}]}}`:                         3,
		`{"name":"dataPoints","k":"a\"dataPoints\":[{}]"}`:                        0,
		`{"dataPoints":[{"exemplars":[{"timeUnixNano":"1"}],"s":"}]\"}]\\"},{}]}`: 2,
		`{"dataPoints":[{`: 1,
		`{"dataPoints`:     0,
		`{"k":"\\\\","dataPoints":[{"k":"\\"},{}]}`: 2,
	} {
		if got := countDataPoints([]byte(body)); got != want {
			t.Errorf("countDataPoints(%s) = %d, want %d", body, got, want)
		}
	}
}
