package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/collect"
)

// The hostile Cloud ALM stand-in: the simulator behind the front, with overrides that answer
// as a broken or malicious server would. Every case runs through runFault, which checks that
// nothing is checkpointed that was not delivered, that a run without the fault completes the
// data, and that no secret or token reaches the summary or the logs; the cases add that nothing
// reached a server a redirect pointed at, and that the run ends within its deadline.

// trap is the server a hostile redirect points at; it records every request that reaches it.
type trap struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []string
}

func newTrap(t *testing.T) *trap {
	tr := &trap{}
	tr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		tr.mu.Lock()
		tr.got = append(tr.got, r.Method+" "+r.URL.Path+" authorization="+r.Header.Get("Authorization")+" form="+r.PostForm.Encode())
		tr.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"trap","token_type":"bearer","expires_in":3600}`))
	}))
	t.Cleanup(tr.srv.Close)
	return tr
}

// url is the trap's URL with its host spelled name ("127.0.0.1" or "localhost").
func (tr *trap) url(name string) string { return strings.Replace(tr.srv.URL, "127.0.0.1", name, 1) }

func (tr *trap) untouched(t *testing.T) {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.got) > 0 {
		t.Errorf("a redirect carried a request to another server: %q", tr.got)
	}
}

// redirectCase answers requests to path with status and a Location on a trap.
func redirectCase(name, path string, status int, host, wantErr string) fault {
	var tr *trap
	return fault{name: name, wantErr: wantErr, inTime: true,
		on: func(e *env) {
			tr = newTrap(e.t)
			e.front.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != path {
					return false
				}
				w.Header().Set("Location", tr.url(host)+r.URL.RequestURI())
				w.WriteHeader(status)
				return true
			})
		},
		check: func(t *testing.T, e *env, s collect.Summary) { tr.untouched(t) }}
}

// rewritePages hands metrics requests to the simulator and lets edit change the answer.
func rewritePages(e *env, edit func(h http.Header, body []byte) []byte) func(w http.ResponseWriter, r *http.Request) bool {
	return rewritePagesIf(e, func(*http.Request) bool { return true }, edit)
}

// rewritePagesIf is rewritePages for the metrics requests when selects.
func rewritePagesIf(e *env, when func(r *http.Request) bool, edit func(h http.Header, body []byte) []byte) func(w http.ResponseWriter, r *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != metricsPath || !when(r) {
			return false
		}
		// The page is asked of the simulator as OTLP JSON, uncompressed, whatever the client
		// asked for, so that edit can rewrite its text; the client reads the answer by its
		// Content-Type (docs/transfer.md).
		r = r.Clone(r.Context())
		r.Header.Del("Accept-Encoding")
		q := r.URL.Query()
		q.Set("format", "protobuf-json")
		r.URL.RawQuery = q.Encode()
		rec := httptest.NewRecorder()
		e.front.cur.Load().ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if rec.Code == http.StatusOK {
			body = edit(rec.Header(), body)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		w.Write(body)
		return true
	}
}

var firstValue = regexp.MustCompile(`"as(Double|Int)":\s*("?-?[0-9.eE+]+"?)`)

// fixedPage answers every metrics request with body and x-total-count total.
func fixedPage(body, total string) func(w http.ResponseWriter, r *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != metricsPath {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Total-Count", total)
		w.Header().Set("X-Correlationid", "hostile-fixed")
		w.Write([]byte(body))
		return true
	}
}

// emptyAfterFirst serves the simulator's first page of every series, then {"resourceMetrics":[]}
// with the simulator's total.
func emptyAfterFirst(e *env) func(w http.ResponseWriter, r *http.Request) bool {
	return rewritePagesIf(e, func(r *http.Request) bool { return r.URL.Query().Get("offset") != "0" },
		func(h http.Header, _ []byte) []byte {
			h.Set("X-Correlationid", "hostile-empty")
			return []byte(`{"resourceMetrics":[]}`)
		})
}

// hangUntilGone answers nothing until the client gives up.
func hangUntilGone(w http.ResponseWriter, r *http.Request) bool {
	if r.URL.Path != metricsPath {
		return false
	}
	<-r.Context().Done()
	return true
}

func hostileFaults() []fault {
	return []fault{
		redirectCase("token endpoint redirects 307 to another port", "/oauth/token", 307, "127.0.0.1", "follows no redirect"),
		redirectCase("token endpoint redirects 308 to another host", "/oauth/token", 308, "localhost", "follows no redirect"),
		redirectCase("token endpoint redirects 302 to another host", "/oauth/token", 302, "localhost", "follows no redirect"),
		redirectCase("API redirects 307 to the same IP on another port", metricsPath, 307, "127.0.0.1", "another scheme, host or port"),
		redirectCase("API redirects 308 to another host", metricsPath, 308, "localhost", "another scheme, host or port"),
		{name: "page cut short with its total", wantErr: "unexpected EOF", inTime: true,
			on: func(e *env) {
				e.front.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
					if r.URL.Path != metricsPath {
						return false
					}
					w.Header().Set("Content-Type", "application/json")
					w.Header().Set("X-Total-Count", "1080")
					w.Header().Set("Content-Length", "4000")
					w.Write([]byte(`{"resourceMetrics":[{"resource":{"attributes":[`))
					return true // the connection ends 3,950 bytes early
				})
			}},
		{name: "HTML page with a total", wantErr: "not a Cloud ALM API response", inTime: true,
			on: func(e *env) {
				e.front.setOverride(rewritePages(e, func(h http.Header, _ []byte) []byte {
					h.Set("Content-Type", "text/html")
					return []byte("<!DOCTYPE html><html><body>Sign in</body></html>")
				}))
			}},
		// OTLP allows NaN: the point is delivered as it came.
		{name: "NaN value", inTime: true,
			on: func(e *env) {
				e.front.setOverride(rewritePages(e, func(_ http.Header, b []byte) []byte {
					return firstValue.ReplaceAll(b, []byte(`"asDouble":"NaN"`))
				}))
			}},
		{name: "number out of range", wantErr: "value out of range", inTime: true,
			on: func(e *env) {
				e.front.setOverride(rewritePages(e, func(_ http.Header, b []byte) []byte {
					return firstValue.ReplaceAll(b, []byte(`"asInt":"99999999999999999999999999"`))
				}))
			}},
		{name: "{} page while the total says more", wantErr: "page 1 at offset 0 (x-correlationid hostile-fixed) is empty while x-total-count says 1080", inTime: true,
			on: func(e *env) { e.front.setOverride(fixedPage("{}", "1080")) }},
		{name: "null page while the total says more", wantErr: "page 1 at offset 0 (x-correlationid hostile-fixed) is empty while x-total-count says 1080", inTime: true,
			on: func(e *env) { e.front.setOverride(fixedPage("null", "1080")) }},
		{name: "second page empty while the total says more", wantErr: "page 2 at offset 40 (x-correlationid hostile-empty) is empty while x-total-count says", inTime: true,
			on: func(e *env) { e.front.setOverride(emptyAfterFirst(e)) }},
		// An unreadable total is no total: paging ends on a short page, nothing is lost.
		{name: "negative total", inTime: true,
			on: func(e *env) {
				e.front.setOverride(rewritePages(e, func(h http.Header, b []byte) []byte {
					h.Set("X-Total-Count", "-1080")
					return b
				}))
			}},
		// Whether a total far beyond what arrives fails the window is the pager's rule (its own
		// tests); here it may not lose, leak or checkpoint anything.
		{name: "absurd total", eitherWay: true, inTime: true,
			on: func(e *env) {
				e.front.setOverride(rewritePages(e, func(h http.Header, b []byte) []byte {
					h.Set("X-Total-Count", "999999999999999999")
					return b
				}))
			}},
		{name: "slow-loris body", httpTimeout: time.Second, runTimeout: time.Minute, inTime: true,
			wantErr: "GET /api/calm-metrics/v1/metrics: read answer: ", // a client timeout or the deadline
			on: func(e *env) {
				e.front.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
					if r.URL.Path != metricsPath {
						return false
					}
					w.Header().Set("Content-Type", "application/json")
					w.Header().Set("X-Total-Count", "1080")
					rc := http.NewResponseController(w)
					for _, c := range []byte(`{"resourceMetrics":[` + strings.Repeat(" ", 1000)) {
						if _, err := w.Write([]byte{c}); err != nil || rc.Flush() != nil {
							return true
						}
						select {
						case <-r.Context().Done():
							return true
						case <-time.After(100 * time.Millisecond):
						}
					}
					return true
				})
			}},
		{name: "hanging answer stops the run at its deadline", httpTimeout: time.Minute, runTimeout: 3 * time.Second,
			inTime: true, incomplete: true,
			on: func(e *env) {
				e.cfg.DeadlineMargin = time.Second
				e.front.setOverride(hangUntilGone)
			}},
	}
}

// TestHostileServer runs the hostile stand-in's cases.
func TestHostileServer(t *testing.T) {
	for _, f := range hostileFaults() {
		t.Run(f.name, func(t *testing.T) { runFault(t, f) })
	}
}

// TestGiantPagesOnEveryMonitorStayInTheMemoryBudget: under a 256 MiB memory limit (the collect
// function's size), every monitor at once gets a 100 MB page. The client built the way every
// caller builds it (collect.Connect) caps each answer so that all the answers that can be held
// at once fit in half the limit: every monitor fails with the cap named, the heap stays below
// the soft limit (without the budget it grew by 345 MiB), and nothing is checkpointed.
func TestGiantPagesOnEveryMonitorStayInTheMemoryBudget(t *testing.T) {
	const limit = 256 << 20
	old := debug.SetMemoryLimit(limit)
	defer debug.SetMemoryLimit(old)
	e := newEnv(t)
	e.cfg.Monitors = []string{"hm", "jam", "exm", "rum"}
	e.cfg.Concurrency = 4
	e.front.setOverride(hugePage(100 << 20))
	raw, err := os.ReadFile(e.secretFile)
	if err != nil {
		t.Fatal(err)
	}
	c, err := collect.Connect(raw, "", collect.ClientOptions{Concurrency: e.cfg.Concurrency, Logger: e.opts.Logger})
	if err != nil {
		t.Fatal(err)
	}
	capBytes := collect.PageLimit(limit, e.cfg.Concurrency)
	if capBytes*int64(e.cfg.Concurrency)*collect.AnswersPerMonitor > limit/2 {
		t.Fatalf("cap %d: the answers held at once exceed half the limit", capBytes)
	}
	r := (&collect.Runner{Config: e.cfg, Store: e.store, Sinks: []collect.Sink{e.sink}, Owner: "e2e",
		Now: func() time.Time { return t0 }, Logger: e.opts.Logger}).For(c)
	var s collect.Summary
	peak := peakHeapGrowth(func() { s = r.Run(context.Background(), collect.Request{}) })
	t.Logf("peak heap growth %.1f MiB; cap per answer %.1f MiB; 4 monitors × 100 MB pages", float64(peak)/(1<<20), float64(capBytes)/(1<<20))
	if len(s.Monitors) != 4 {
		t.Fatalf("summary: %+v", s)
	}
	for _, m := range s.Monitors {
		if !strings.Contains(m.Error, fmt.Sprintf("answer is larger than %d bytes (MaxBodyBytes", capBytes)) {
			t.Errorf("%s: %q, want the cap named", m.Monitor, m.Error)
		}
	}
	// The answers' budget is half the limit; reading them also leaves garbage until the next
	// collection, so the bound checked is the soft limit the collect function sets (3/4).
	if peak > limit*3/4 {
		t.Errorf("heap grew by %d MiB with 100 MB pages on every monitor, beyond %d MiB (3/4 of the limit)", peak>>20, limit*3/4>>20)
	}
	e.checkPending(t0.Add(-e.cfg.Lag).Truncate(e.cfg.Resolution).Add(-e.cfg.Lookback))
	e.noSecrets(s)
}
