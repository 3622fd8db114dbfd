package calm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// allPagesPager is the pager of the fake collections below: pages of 3, the first page asking
// ahead too.
func allPagesPager(maxPages int) pager[int] {
	return pager[int]{logger: quietLogger(), what: "rows", limit: 3, maxPages: maxPages, allPages: true}
}

// While the caller holds a page, the pages up to two ahead of it have been asked for, never a
// third; the pages still come in order, every row once, with the minimum of requests, and the
// answers held at once (asked for and not yet decoded, the one being decoded included) never
// exceed answersHeld, the number the memory budget divides by (AnswerCap).
//
// It runs in a synctest bubble: synctest.Wait returns once the pager's goroutines are all
// blocked, so a pager that would run further ahead has done so before the check.
func TestPagesAskUpToTwoPagesAhead(t *testing.T) {
	synctest.Test(t, testPagesAskUpToTwoPagesAhead)
}

func testPagesAskUpToTwoPagesAhead(t *testing.T) {
	f := newFakeCollection(3, 30) // 10 full pages
	f.onDecode = func(offset int) error {
		if last := offset + 2*3; last < 30 {
			f.waitAsked(t, last) // a page is decoded while the two after it are asked for
		}
		return nil
	}
	var got, offsets []int
	for p, err := range allPagesPager(100).pages(context.Background(), whole(f.fetch)) {
		if err != nil {
			t.Fatal(err)
		}
		offsets = append(offsets, p.offset)
		got = append(got, p.items...)
		synctest.Wait() // a pager that runs further ahead has done so
		if a := f.askedOffsets(); slices.Max(a) > p.offset+2*3 {
			t.Fatalf("while the page at %d is used, asked %v: more than two pages ahead", p.offset, a)
		}
	}
	want := make([]int, 30)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows %v, want 0..29 in order, each once", got)
	}
	if a := f.askedOffsets(); !slices.Equal(a, []int{0, 3, 6, 9, 12, 15, 18, 21, 24, 27}) || !slices.Equal(offsets, a) {
		t.Errorf("asked %v, yielded %v; want every page once, in order", a, offsets)
	}
	if h := f.maxHeld.Load(); h != 3 || answersHeld != 3 {
		t.Errorf("at most %d answers held at once, answersHeld %d; want 3 both (the page decoded and two ahead)", h, answersHeld)
	}
}

// The fetcher asks for no page past the hard cap on pages: the walk fails at the cap having made
// exactly maxPages requests.
func TestPagesAskNoPagePastTheCap(t *testing.T) {
	f := newFakeCollection(3, 30)
	var err error
	for _, e := range allPagesPager(4).pages(context.Background(), whole(f.fetch)) {
		if e != nil {
			err = e
		}
	}
	if !errors.Is(err, ErrTooManyPages) {
		t.Errorf("err = %v, want ErrTooManyPages", err)
	}
	if a := f.askedOffsets(); !slices.Equal(a, []int{0, 3, 6, 9}) {
		t.Errorf("asked %v, want [0 3 6 9] (4 pages, none past the cap)", a)
	}
}

// An error of the page two ahead fails the walk at that page, after the pages before it, and
// the fetcher asks for nothing after it.
func TestPagesReportTheErrorOfThePageTwoAhead(t *testing.T) {
	boom := errors.New("boom")
	f := newFakeCollection(3, 30)
	f.hold = func(_ context.Context, offset int) error {
		if offset == 9 {
			return boom
		}
		return nil
	}
	var offsets []int
	var last error
	for p, err := range allPagesPager(100).pages(context.Background(), whole(f.fetch)) {
		if err != nil {
			last = err
			break
		}
		offsets = append(offsets, p.offset)
	}
	if !errors.Is(last, boom) || last.Error() != "rows at offset 9: boom" || !slices.Equal(offsets, []int{0, 3, 6}) {
		t.Errorf("pages %v, err %v; want [0 3 6] and \"rows at offset 9: boom\"", offsets, last)
	}
	if a := f.askedOffsets(); slices.Contains(a, 12) {
		t.Errorf("asked %v: a page after the failed one", a)
	}
}

// A page that fails to decode fails the walk, and the two requests running ahead of it are
// cancelled (cause errPrefetchDiscarded) and waited for before the iteration returns.
func TestPagesCancelTheRequestsAheadOnAnError(t *testing.T) {
	f := newFakeCollection(3, 30)
	f.hold = func(ctx context.Context, offset int) error {
		if offset >= 6 {
			<-ctx.Done() // the two pages ahead of the one at 3 wait until cancelled
			return ctx.Err()
		}
		return nil
	}
	f.onDecode = func(offset int) error {
		if offset == 3 {
			f.waitAsked(t, 6) // the request ahead is on its way when the decode fails
			return errors.New("bad page")
		}
		return nil
	}
	before := runtime.NumGoroutine()
	var last error
	for _, err := range allPagesPager(100).pages(context.Background(), whole(f.fetch)) {
		if err != nil {
			last = err
		}
	}
	if last == nil || !strings.HasPrefix(last.Error(), "rows at offset 3: bad page") {
		t.Errorf("err = %v, want the decode error at offset 3", last)
	}
	if !errors.Is(f.causes[6], errPrefetchDiscarded) {
		t.Errorf("the request ahead ended with cause %v, want errPrefetchDiscarded", f.causes[6])
	}
	if n := f.running.Load(); n != 0 {
		t.Errorf("%d fetches still running after the iteration", n)
	}
	noGoroutineLeak(t, before)
}

// Through the client, the fetcher asks for a page as soon as the answer to the page before has
// begun (its 2xx status and headers are in), while that answer's body is still on its way: the
// server holds the body of the page at 3 until the request for the page at 6 has come. Every
// row still comes once, in order, with the minimum of requests.
func TestMetricsAskTheNextPageWhileABodyIsRead(t *testing.T) {
	tn := newTenant(t)
	const limit, total = 3, 9
	sixAsked := make(chan struct{})
	tn.mux.HandleFunc("GET /api/calm-metrics/v1/metrics", func(w http.ResponseWriter, r *http.Request) {
		offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		if offset == 6 {
			close(sixAsked)
		}
		var dps []string
		for i := offset; i < min(offset+limit, total); i++ {
			dps = append(dps, fmt.Sprintf(`{"timeUnixNano":"%d","asDouble":%d}`, 1795687200000000000+int64(i)*1e9, i))
		}
		body := []byte(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"value","gauge":{"dataPoints":[` + strings.Join(dps, ",") + `]}}]}]}]}`)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Total-Count", strconv.Itoa(total))
		if offset != 3 {
			w.Write(body)
			return
		}
		w.Write(body[:10])
		w.(http.Flusher).Flush() // status and headers are out, the body has begun
		select {
		case <-sixAsked:
		case <-time.After(10 * time.Second):
			t.Error("the page at 6 was not asked for while the body of the page at 3 was on its way")
		}
		w.Write(body[10:])
	})
	c := tn.client(func(o *Options) { o.PageSize = limit })
	got := metricValues(t, c, MetricsQuery{Provider: "hm", From: winFrom, To: winTo, AllPages: true}, nil)
	if want := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8}; !slices.Equal(got, want) {
		t.Errorf("values %v, want %v", got, want)
	}
	if s := c.Stats(); s.Requests != 3 || s.Errors != 0 {
		t.Errorf("stats %+v, want 3 requests (the minimum) and no error", s)
	}
}

// pagedServer answers the metrics API with total points in pages of at most limit (cap, when
// above 0, cuts a page shorter), one point per row; hold, when set, is called after an
// answer's headers are out and before its body, with the offset asked.
func pagedServer(t *testing.T, tn *tenant, total, capAt int, hold func(offset int)) {
	tn.mux.HandleFunc("GET /api/calm-metrics/v1/metrics", func(w http.ResponseWriter, r *http.Request) {
		offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		n := min(limit, total-offset)
		if capAt > 0 {
			n = min(n, capAt)
		}
		var dps []string
		for i := offset; i < offset+n; i++ {
			dps = append(dps, fmt.Sprintf(`{"timeUnixNano":"%d","asDouble":%d}`, 1795687200000000000+int64(i)*1e9, i))
		}
		body := []byte(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"value","gauge":{"dataPoints":[` + strings.Join(dps, ",") + `]}}]}]}]}`)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Total-Count", strconv.Itoa(total))
		w.Write(body[:10])
		w.(http.Flusher).Flush()
		if hold != nil {
			hold(offset)
		}
		w.Write(body[10:])
	})
}

// waitFor waits for ch to close; a pager that never gets there fails the test.
func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Error(what)
	}
}

// metricValues reads every page of q and returns the values of its points in order; onPage,
// when set, sees each page first.
func metricValues(t *testing.T, c *Client, q MetricsQuery, onPage func(MetricsPage)) []float64 {
	t.Helper()
	var got []float64
	for p, err := range c.Metrics(context.Background(), q) {
		if err != nil {
			t.Fatal(err)
		}
		if onPage != nil {
			onPage(p)
		}
		dps := p.Metrics.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Gauge().DataPoints()
		for i := range dps.Len() {
			got = append(got, dps.At(i).DoubleValue())
		}
	}
	return got
}

// When the caller reads every page, the second page is asked for as soon as the first answer
// has begun; the channel of a Handoff closes once the answer to the last page is in, before that page is
// decoded and yielded. Every row comes once, with the minimum of requests.
func TestMetricsAskTheSecondPageAndSayTheLastOneEarly(t *testing.T) {
	tn := newTenant(t)
	secondAsked := make(chan struct{})
	c, lastAsked := tn.client(func(o *Options) { o.PageSize = 3 }).Handoff()
	pagedServer(t, tn, 9, 0, func(offset int) {
		switch offset {
		case 0:
			waitFor(t, secondAsked, "the page at 3 was not asked for while the first answer's body was on its way")
		case 3:
			close(secondAsked)
		case 6:
			select {
			case <-lastAsked:
				t.Error("the handoff closed before the last answer was in")
			default:
			}
		}
	})
	q := MetricsQuery{Provider: "hm", From: winFrom, To: winTo, AllPages: true}
	got := metricValues(t, c, q, func(p MetricsPage) {
		if p.Offset == 6 {
			waitFor(t, lastAsked, "the handoff did not close before the last page was yielded")
		}
	})
	if want := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8}; !slices.Equal(got, want) {
		t.Errorf("values %v, want %v", got, want)
	}
	if s := c.Stats(); s.Requests != 3 || s.Errors != 0 {
		t.Errorf("stats %+v, want 3 requests (the minimum) and no error", s)
	}
}

// Against a tenant that caps pages below the limit, asking for the second page with the first
// costs one request that is not needed; the client learns it, and later walks ask for their
// first page alone. Every row comes once in both.
func TestMetricsAskTheFirstPageAloneOnceAPageWasCapped(t *testing.T) {
	tn := newTenant(t)
	var ahead atomic.Int32 // requests for the page at 3: only ever asked ahead (capped pages are at 0, 2, 4, …)
	aheadAsked := make(chan struct{})
	var walk atomic.Int32
	walk.Store(1)
	pagedServer(t, tn, 9, 2, func(offset int) {
		switch {
		case offset == 3:
			if ahead.Add(1) == 1 {
				close(aheadAsked)
			}
		case offset == 0 && walk.Load() == 1:
			waitFor(t, aheadAsked, "the first walk did not ask for the second page with the first")
		}
	})
	c := tn.client(func(o *Options) { o.PageSize = 3 })
	want := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8}
	q := MetricsQuery{Provider: "hm", From: winFrom, To: winTo, AllPages: true}
	if got := metricValues(t, c, q, nil); !slices.Equal(got, want) {
		t.Errorf("first walk: values %v, want %v", got, want)
	}
	first := c.Stats().Requests
	if first != 6 || ahead.Load() != 1 {
		t.Errorf("first walk: %d requests, %d at offset 3; want 6: 5 capped pages and the one asked ahead of the first", first, ahead.Load())
	}
	walk.Store(2)
	if got := metricValues(t, c, q, nil); !slices.Equal(got, want) {
		t.Errorf("second walk: values %v, want %v", got, want)
	}
	if n := c.Stats().Requests - first; n != 5 || ahead.Load() != 1 {
		t.Errorf("second walk: %d requests, %d at offset 3 in all; want 5, the first page asked alone", n, ahead.Load())
	}
}
