package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/calm-collector/calm-collector/internal/awstest"
	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/fleet"
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
	capBytes := calm.AnswerCap(limit/2, e.cfg.Concurrency) // the answers' budget: half the limit
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

// TestHostileTenantsAndDestinations holds the attacks of issue 23 (an adversarial review): what
// a tenant's data, a connector's secret or an operator's input can do to the fleet. Each case
// drives the code the collector runs (the runner and sinks against the destinations' limits,
// internal/fleet against moto, the calmctl binary); the stack's side (testconn's aws:TagKeys
// condition, the secrets key in the template) is infra/cdk's TestTestconnPermissionsAndURL and
// TestSecretsCustomerManagedKey, a failed synth scripts' TestSynthKeepsTheLastGoodTemplate.
func TestHostileTenantsAndDestinations(t *testing.T) {
	for _, c := range []struct {
		name string
		run  func(t *testing.T)
	}{
		{"a 300 KB status event does not jam the monitor", oversizeStatusEvent},
		{"ten 27 KB events fit PutEvents in two requests", tenLargeEvents},
		{"a series with a 300 KB attribute under an alert rule", oversizeAttributeUnderARule},
		{"a connector named squat with a key naming victim", squatName},
		{"an unfilled placeholder is not dispatched", unfilledPlaceholder},
		{"a malformed name under the prefix is reported", malformedName},
		{"--stack climbing out of the prefix", stackTraversal},
		{"re-adding in the recovery window", recoveryWindow},
		{"a connector added at run time uses the stack's key", runtimeKey},
		{"calmctl without GOMEMLIMIT on giant pages", calmctlGiantPages},
	} {
		t.Run(c.name, c.run)
	}
}

const hostilePrefix = "calm-collector/Hostile/connectors/"

func squatName(t *testing.T) {
	e := newEnv(t)
	key, err := os.ReadFile(e.secretFile)
	if err != nil {
		t.Fatal(err)
	}
	victim := strings.Replace(string(key), `"name":"sim"`, `"name":"victim"`, 1)
	_, _, err = fleet.BindName("squat", []byte(victim))
	if err == nil || !strings.Contains(err.Error(), `connector "squat": the settings name the tenant "victim"`) {
		t.Errorf("BindName: %v; want a refusal naming both", err)
	}
	if s, renamed, err := fleet.BindName("squat", []byte(strings.Replace(string(key), `"name":"sim",`, "", 1))); err != nil || !renamed || s.Name != "squat" {
		t.Errorf("without a name: %q renamed %v %v; want named after the connector", s.Name, renamed, err)
	}
}

func hostileSecrets(t *testing.T) *secretsmanager.Client {
	t.Helper()
	m := awstest.Moto(t)
	m.Reset(t)
	return secretsmanager.NewFromConfig(m.AWSConfig(context.Background()))
}

func unfilledPlaceholder(t *testing.T) {
	ctx := context.Background()
	sm := hostileSecrets(t)
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(hostilePrefix + "todo"), SecretString: aws.String(`{"placeholder":"x"}`),
		Tags: []smtypes.Tag{{Key: aws.String(fleet.TagPlaceholder), Value: aws.String("true")}}}); err != nil {
		t.Fatal(err)
	}
	cs, err := fleet.List(ctx, sm, hostilePrefix)
	if err != nil || len(cs) != 1 || !cs[0].Unfilled {
		t.Fatalf("List = %+v, %v", cs, err)
	}
	if n, err := fleet.Dispatch(ctx, nil, "unused: nothing is due", t0, 5*time.Minute, cs); n != 0 || err != nil {
		t.Errorf("Dispatch = %d, %v; want nothing sent", n, err)
	}
}

func malformedName(t *testing.T) {
	ctx := context.Background()
	sm := hostileSecrets(t)
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(hostilePrefix + "UPPER_case"), SecretString: aws.String("{}")}); err != nil {
		t.Fatal(err)
	}
	if _, err := fleet.List(ctx, sm, hostilePrefix); err == nil || !strings.Contains(err.Error(), "UPPER_case is under the connector prefix but is not collected") {
		t.Errorf("List: %v; want the malformed name reported", err)
	}
}

func stackTraversal(t *testing.T) {
	for _, s := range []string{"Adv/connectors/../../Other", "..", "a b"} {
		if err := fleet.CheckStackName(s); err == nil {
			t.Errorf("stack name %q accepted", s)
		}
	}
}

func recoveryWindow(t *testing.T) {
	ctx := context.Background()
	sm := hostileSecrets(t)
	if _, err := fleet.Add(ctx, sm, hostilePrefix, fleet.AddInput{Name: "gone", Secret: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if err := fleet.Remove(ctx, sm, hostilePrefix, "gone", 7); err != nil {
		t.Fatal(err)
	}
	if _, err := fleet.Add(ctx, sm, hostilePrefix, fleet.AddInput{Name: "gone", Secret: []byte(`{}`)}); err == nil || !strings.Contains(err.Error(), "restore-secret --secret-id "+hostilePrefix+"gone") {
		t.Errorf("re-add: %v; want the restore command", err)
	}
}

func runtimeKey(t *testing.T) {
	ctx := context.Background()
	sm := hostileSecrets(t)
	const key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	if _, err := fleet.Add(ctx, sm, hostilePrefix, fleet.AddInput{Name: "keyed", Secret: []byte(`{}`), KMSKeyID: key}); err != nil {
		t.Fatal(err)
	}
	d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(hostilePrefix + "keyed")})
	if err != nil || aws.ToString(d.KmsKeyId) != key {
		t.Errorf("key %q (%v), want %s", aws.ToString(d.KmsKeyId), err, key)
	}
}

// calmctlGiantPages: the calmctl binary, with no GOMEMLIMIT, against a tenant answering 30 MB
// pages on four monitors: its default budget caps each answer, so the windows fail with the cap
// named and the run exits 1, instead of the process holding 4 × 30 MB and more.
func calmctlGiantPages(t *testing.T) {
	bin := buildCalmctl(t)
	e := newEnv(t)
	e.front.setOverride(hugePage(30 << 20))
	dir := t.TempDir()
	cmd := exec.Command(bin, "collect", "--secret-file", e.secretFile, "--state", dir, "--out", dir+"/out.ndjson", "--monitors", "hm,jam,exm,rum")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOMEMLIMIT=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("calmctl collect: %v, want exit 1\n%s", err, out)
	}
	if n := strings.Count(string(out), "answer is larger than"); n < 4 {
		t.Errorf("the cap is named %d times, want every monitor's failure:\n%s", n, out)
	}
}
