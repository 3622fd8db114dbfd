package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/sink"
)

const metricsPath = "/api/calm-metrics/v1/metrics"

// fault is one scenario of the suite.
type fault struct {
	name string
	// on switches the fault on before the first run (and may install hooks that switch it on
	// during the run).
	on func(e *env)
	// httpTimeout bounds each HTTP request (default 10s); runTimeout bounds the first run.
	httpTimeout, runTimeout time.Duration
	// wantErr is a text the first run's summary must show; "" means retries absorb the fault
	// and the first run must succeed.
	wantErr string
	// check looks at the first run's summary (optional).
	check func(t *testing.T, e *env, s collect.Summary)
	// inTime: the first run must return before its deadline (it stops in the margin).
	inTime bool
	// incomplete: the first run stops at its deadline without an error, reported not ok.
	incomplete bool
	// eitherWay: the first run may absorb the fault or fail on it; only the state and leak
	// checks apply (the pager's reading of the answer is another test's subject).
	eitherWay bool
}

func faults() []fault {
	return []fault{
		{name: "429 storm with Retry-After seconds", wantErr: "HTTP 429 Too Many Requests",
			on: func(e *env) { e.sim.SetFaults(sim.Faults{RateLimit: 3, RetryAfter: "1"}) },
			check: func(t *testing.T, e *env, s collect.Summary) {
				if n := throttled(s); n != 3 {
					t.Errorf("throttled %d, want 3 (every attempt of one call answered 429)", n)
				}
			}},
		{name: "429 storm with a Retry-After longer than the client waits", wantErr: "the server asks to retry after 1h0m0s, longer than 15m0s",
			on: func(e *env) { e.sim.SetFaults(sim.Faults{RateLimit: 1000, RetryAfter: "3600"}) }},
		{name: "429s absorbed by retries",
			on: func(e *env) { e.sim.SetFaults(sim.Faults{RateLimit: 2, RetryAfter: "0"}) },
			check: func(t *testing.T, e *env, s collect.Summary) {
				if n := throttled(s); n != 2 {
					t.Errorf("throttled %d, want 2", n)
				}
			}},
		{name: "5xx burst", wantErr: "GET /api/calm-metrics/v1/metrics: HTTP 503 Service Unavailable",
			on: func(e *env) { e.sim.SetFaults(sim.Faults{ServerErrors: 3}) }},
		{name: "5xx absorbed by retries",
			on: func(e *env) { e.sim.SetFaults(sim.Faults{ServerErrors: 2}) }},
		{name: "connection resets", wantErr: "(after 3 attempts)",
			on: func(e *env) { e.sim.SetFaults(sim.Faults{ResetConnections: 40}) }},
		{name: "one connection reset absorbed",
			on: func(e *env) { e.sim.SetFaults(sim.Faults{ResetConnections: 1}) }},
		{name: "answers slower than the request timeout", httpTimeout: 100 * time.Millisecond,
			wantErr: "Client.Timeout exceeded",
			on:      func(e *env) { e.sim.SetFaults(sim.Faults{Slow: 2 * time.Second}) }},
		{name: "answers slower than the run deadline", runTimeout: 1500 * time.Millisecond,
			wantErr: "context deadline exceeded",
			on: func(e *env) {
				e.cfg.DeadlineMargin = 0
				e.sim.SetFaults(sim.Faults{Slow: 150 * time.Millisecond})
			}},
		{name: "token revoked mid-run",
			on: func(e *env) {
				var once sync.Once
				e.sink.After = func(sink.Batch) { once.Do(func() { e.sim.SetFaults(sim.Faults{RevokeTokens: true}) }) }
			},
			check: func(t *testing.T, e *env, s collect.Summary) {
				if n := e.sim.Requests()["/oauth/token"]; n < 2 {
					t.Errorf("%d token requests, want a second one after the revocation", n)
				}
				if !strings.Contains(e.logs.String(), "cloud alm answered 401; refreshing the token") {
					t.Errorf("no log line about the refresh after the 401")
				}
			}},
		{name: "client secret rotated mid-run", wantErr: "token refresh after 401 failed: get token from ",
			on: func(e *env) {
				rotated := newSim(newSecret, 0, e.reading)
				var once sync.Once
				e.sink.After = func(b sink.Batch) {
					if b.Len() > 0 {
						once.Do(func() { e.front.cur.Store(rotated) })
					}
				}
			},
			check: func(t *testing.T, e *env, s collect.Summary) {
				if !strings.Contains(strings.Join(errorsOf(s), "\n"), "HTTP 401 invalid_client: Bad credentials") {
					t.Errorf("errors do not name the refused client: %s", fmtErrs(errorsOf(s)))
				}
				// The collector reads the secret from its source on the next run: the rotation
				// is picked up there.
				e.writeSecret(newSecret)
			}},
		{name: "HTML login page", wantErr: "not a Cloud ALM API response — check the URL setting",
			on: func(e *env) { e.sim.SetFaults(sim.Faults{HTMLPage: true}) }},
		{name: "garbled answer", wantErr: "decode OTLP",
			on: func(e *env) { e.sim.SetFaults(sim.Faults{Garbled: true}) }},
		{name: "x-total-count grows every page", wantErr: "x-total-count kept changing while paging",
			on: func(e *env) { e.sim.SetFaults(sim.Faults{GrowTotal: true}) }},
		{name: "x-total-count shrinks after the first page", wantErr: "x-total-count kept changing while paging",
			on: func(e *env) { e.front.setOverride(shrinkTotal(e, e.opts.PageSize)) }},
		{name: "page repeated", wantErr: "server repeated the previous page",
			on: func(e *env) { e.sim.SetFaults(sim.Faults{RepeatPage: true}) }},
		{name: "server ignores limit",
			on: func(e *env) { e.sim.SetFaults(sim.Faults{IgnoreLimit: true}) }},
		{name: "50 MB page", wantErr: "answer is larger than 16777216 bytes (MaxBodyBytes",
			on: func(e *env) { e.front.setOverride(hugePage(50 << 20)) }},
	}
}

func throttled(s collect.Summary) (n int64) {
	for _, m := range s.Monitors {
		n += m.Throttled
	}
	return n
}

// TestFaults runs every fault: a first run with the fault on, the state checked (everything
// delivered or pending behind its checkpoint), then a second run without the fault that must
// complete, and the union of both runs must be exactly what the simulator serves.
func TestFaults(t *testing.T) {
	for _, v := range sim.Readings() {
		t.Run(v.Name, func(t *testing.T) { testFaults(t, v) })
	}
}

func testFaults(t *testing.T, v sim.Reading) {
	for _, f := range faults() {
		t.Run(f.name, func(t *testing.T) { runFaultOn(t, f, v) })
	}
}

// runFault runs one fault: the first run with it on, the state check, the second run without it
// and the check of both runs together. It returns the first run's summary.
func runFault(t *testing.T, f fault) collect.Summary {
	t.Helper()
	return runFaultOn(t, f, sim.Readings()[0])
}

// runFaultOn is runFault against a tenant serving answers as v says.
func runFaultOn(t *testing.T, f fault, v sim.Reading) collect.Summary {
	t.Helper()
	e := newEnvReading(t, v)
	f.on(e)
	if f.httpTimeout == 0 {
		f.httpTimeout = 10 * time.Second
	}
	if f.runTimeout == 0 {
		f.runTimeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), f.runTimeout)
	s1 := e.run(ctx, f.httpTimeout)
	if f.inTime && ctx.Err() != nil {
		t.Errorf("the first run returned after its deadline (%s)", f.runTimeout)
	}
	cancel()
	errs := errorsOf(s1)
	t.Logf("first run:\n%s", summaryText(s1))
	switch {
	case f.eitherWay:
	case f.incomplete:
		if s1.OK || !s1.Incomplete || len(errs) > 0 {
			t.Errorf("first run ok=%v incomplete=%v errors %s, want an incomplete run without errors", s1.OK, s1.Incomplete, fmtErrs(errs))
		}
	case f.wantErr == "" && !s1.OK:
		t.Errorf("first run failed, want the fault absorbed: %s", fmtErrs(errs))
	case f.wantErr != "" && s1.OK:
		t.Errorf("first run ok, want an error with %q", f.wantErr)
	case f.wantErr != "" && !strings.Contains(strings.Join(errs, "\n"), f.wantErr):
		t.Errorf("errors %s do not say %q", fmtErrs(errs), f.wantErr)
	}
	if f.check != nil {
		f.check(t, e, s1)
	}
	end := t0.Add(-e.cfg.Lag).Truncate(e.cfg.Resolution) // the first run's range (docs/design.md §5)
	from := end.Add(-e.cfg.Lookback)
	e.checkPending(from)

	// The fault is cleared; the next run goes on from the checkpoints.
	e.sim.SetFaults(sim.Faults{})
	e.front.setOverride(nil)
	e.sink.After = nil
	e.cfg.DeadlineMargin = collect.DefaultConfig().DeadlineMargin
	s2 := e.run(context.Background(), 10*time.Second)
	if !s2.OK {
		t.Fatalf("second run without the fault failed:\n%s", summaryText(s2))
	}
	e.checkComplete(from, end)
	e.noSecrets(s1)
	e.noSecrets(s2)
	return s1
}

// TestEmptyWindows: windows in which the simulator has no point are delivered as empty batches
// and passed by the checkpoint; nothing is made up.
func TestEmptyWindows(t *testing.T) {
	e := newEnv(t)
	e.sim = newSim(oldSecret, 1, sim.Readings()[0]) // one service: most iep and exm windows are empty
	e.front.cur.Store(e.sim)
	e.cfg.Monitors = []string{"iep", "exm"}
	s := e.run(context.Background(), 10*time.Second)
	if !s.OK {
		t.Fatalf("run failed:\n%s", summaryText(s))
	}
	empty := 0
	for _, b := range e.sink.Batches() {
		if b.Len() == 0 {
			empty++
		}
	}
	if empty == 0 {
		t.Fatalf("no empty window in the range: the test proves nothing")
	}
	for _, m := range s.Monitors {
		if m.Windows != 24 {
			t.Errorf("%s: %d windows, want 24 (empty ones included)", m.Monitor, m.Windows)
		}
	}
	t.Logf("%d of 48 windows empty", empty)
	end := t0.Add(-e.cfg.Lag).Truncate(e.cfg.Resolution)
	e.checkComplete(end.Add(-e.cfg.Lookback), end)
}

// TestHugePageMemoryIsBounded: a 50 MB answer is refused at MaxBodyBytes without holding it:
// the heap grows by about the limit, not by the page.
func TestHugePageMemoryIsBounded(t *testing.T) {
	e := newEnv(t)
	e.cfg.Monitors = []string{"hm"}
	e.front.setOverride(hugePage(50 << 20))
	peak := peakHeapGrowth(func() {
		s := e.run(context.Background(), 30*time.Second)
		if s.OK || !strings.Contains(strings.Join(errorsOf(s), "\n"), "MaxBodyBytes") {
			t.Errorf("run: %s", fmtErrs(errorsOf(s)))
		}
	})
	t.Logf("peak heap growth %.1f MiB (MaxBodyBytes 16 MiB, page 50 MiB)", float64(peak)/(1<<20))
	if peak > 48<<20 {
		t.Errorf("heap grew by %d MiB during a run refusing a 50 MiB page at 16 MiB", peak>>20)
	}
}

// peakHeapGrowth runs fn and returns the largest HeapInuse seen during it, minus the one before.
func peakHeapGrowth(fn func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		var m runtime.MemStats
		tk := time.NewTicker(2 * time.Millisecond)
		defer tk.Stop()
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-done:
				return
			case <-tk.C:
			}
		}
	}()
	fn()
	close(done)
	<-stopped
	if peak < base {
		return 0
	}
	return peak - base
}

// hugePage answers every metrics request with a size-byte OTLP JSON body, streamed (the
// server never holds it).
func hugePage(size int) func(w http.ResponseWriter, r *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != metricsPath {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Total-Count", "1")
		head, tail := `{"resourceMetrics":[`, `]}`
		w.Write([]byte(head))
		pad := []byte(strings.Repeat(" ", 64<<10))
		for n := len(head) + len(tail); n < size; n += len(pad) {
			if _, err := w.Write(pad[:min(len(pad), size-n)]); err != nil {
				return true // the client gave up
			}
		}
		w.Write([]byte(tail))
		return true
	}
}

// shrinkTotal reports, on every metrics page after the first, an x-total-count one page
// smaller than the simulator's.
func shrinkTotal(e *env, limit int) func(w http.ResponseWriter, r *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != metricsPath || r.URL.Query().Get("offset") == "0" {
			return false
		}
		rec := httptest.NewRecorder()
		e.front.cur.Load().ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		if n, err := strconv.Atoi(rec.Header().Get("X-Total-Count")); err == nil {
			w.Header().Set("X-Total-Count", strconv.Itoa(max(0, n-limit)))
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		return true
	}
}
