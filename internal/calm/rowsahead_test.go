package calm

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/sim"
)

// A tenant that pages by rows (the simulator's strict reading: a row is one series at one time
// carrying every measure asked for, so a full page holds more data points than the limit) has
// its pages asked for ahead as one paging by data points does: while the caller holds each page
// but the last, the request for the next one has reached the server. Counted before decoding,
// a page's data points were once taken for its rows, and such a page never looked full: no
// request overlapped another.
func TestMetricsAskAheadWhenTheTenantPagesByRows(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s := sim.New(sim.Config{Strict: true, Now: func() time.Time { return now }})
	asked := newOffsetsAsked()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/calm-metrics/v1/metrics" {
			offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
			asked.add(offset)
		}
		serveWithoutErrorBodies(s, w, r)
	}))
	t.Cleanup(srv.Close)
	const limit = 10
	c, err := New(Settings{Name: "sim", URL: srv.URL, AuthenticationServer: srv.URL, ClientID: sim.DefaultClientID,
		ClientSecret: sim.DefaultClientSecret, CredentialType: CredentialBindingSecret}, Options{PageSize: limit, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	hm, _ := monitor.Lookup("hm")
	dims, metrics := hm.Columns()
	q := MetricsQuery{Provider: "hm", From: now.Add(-time.Hour), To: now.Add(-30 * time.Minute), Dimensions: dims, Metrics: metrics, AllPages: true}
	pages, overlapped := 0, 0
	for p, err := range c.Metrics(t.Context(), q) {
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if p.Points <= p.Rows {
			t.Fatalf("page at %d: %d points in %d rows; the test needs rows of several measures", p.Offset, p.Points, p.Rows)
		}
		if next := p.Offset + limit; next < p.Total {
			if !asked.waitFor(next) {
				t.Fatalf("the page at %d was not asked for while the page at %d (%d rows, %d points) was held", next, p.Offset, p.Rows, p.Points)
			}
			overlapped++
		}
	}
	if pages < 4 || overlapped != pages-1 {
		t.Errorf("%d pages, %d asked for ahead; want at least 4 pages, every one but the first asked ahead", pages, overlapped)
	}
	if st := c.Stats(); st.Requests != int64(pages) {
		t.Errorf("%d requests for %d pages; want one each", st.Requests, pages)
	}
}

// offsetsAsked records the offsets of the metrics requests that reached the server.
type offsetsAsked struct {
	mu   sync.Mutex
	seen map[int]chan struct{}
}

func newOffsetsAsked() *offsetsAsked { return &offsetsAsked{seen: map[int]chan struct{}{}} }

func (o *offsetsAsked) ch(offset int) chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen[offset] == nil {
		o.seen[offset] = make(chan struct{})
	}
	return o.seen[offset]
}

func (o *offsetsAsked) add(offset int) {
	ch := o.ch(offset)
	o.mu.Lock()
	defer o.mu.Unlock()
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// waitFor reports whether the request at offset reaches the server; a pager that never asks
// for it fails the test after a generous bound.
func (o *offsetsAsked) waitFor(offset int) bool {
	select {
	case <-o.ch(offset):
		return true
	case <-time.After(10 * time.Second):
		return false
	}
}

// serveWithoutErrorBodies serves r from s, asking again when the strict simulator answers 200
// with an error object (it answers the same request the second time): the paging is strict,
// the retries the error bodies cost are another test's.
func serveWithoutErrorBodies(s *sim.Server, w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, r)
	if rec.Code == http.StatusOK && r.URL.Path == "/api/calm-metrics/v1/metrics" && rec.Header().Get("X-Total-Count") == "" {
		rec = httptest.NewRecorder()
		s.ServeHTTP(rec, r)
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}
