package conntest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/sim"
)

// connector returns the simulator's connector JSON with fields replaced.
func connector(t *testing.T, s *sim.Server, set map[string]string) []byte {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal(s.ConnectorJSON(), &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range set {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// statuses renders "id=status" for every check, for compact comparisons.
func statuses(r Report) string {
	var parts []string
	for _, c := range r.Checks {
		parts = append(parts, c.ID+"="+string(c.Status))
	}
	return strings.Join(parts, " ")
}

func wantStatuses(t *testing.T, r Report, want string) {
	t.Helper()
	if got := statuses(r); got != want {
		var buf bytes.Buffer
		_ = Render(&buf, r)
		t.Fatalf("checks:\n got %s\nwant %s\n%s", got, want, buf.String())
	}
}

// allPass is every check passing, with every default monitor probed.
var allPass = defaultStatuses("settings=pass reach=pass token=pass scopes=pass api=pass api-shape=pass", "pass", "quota=pass")

// defaultStatuses renders the statuses of a run of the default monitors: before, each default
// monitor's check with status, then after.
func defaultStatuses(before, status, after string) string {
	parts := []string{before}
	for _, id := range monitor.Defaults() {
		parts = append(parts, "monitor:"+id+"="+status)
	}
	return strings.Join(append(parts, after), " ")
}

func TestRunPass(t *testing.T) {
	s := sim.StartTest(t, sim.Config{})
	r := Run(context.Background(), s.ConnectorJSON(), Options{})
	wantStatuses(t, r, allPass)
	if !r.OK || r.Connector != "sim" {
		t.Fatalf("ok=%v connector=%q", r.OK, r.Connector)
	}
	reach, _ := r.Check("reach")
	if !strings.Contains(reach.Detail, "no TLS (plain http, allowed on loopback only)") || !strings.Contains(reach.Detail, "same host as auth") {
		t.Errorf("reach detail = %q", reach.Detail)
	}
	for _, c := range r.Checks {
		if c.Hint != "" || c.Detail == "" {
			t.Errorf("check %s: hint %q detail %q", c.ID, c.Hint, c.Detail)
		}
	}
}

func TestRunServiceKeyWithAPISuffix(t *testing.T) {
	s := sim.StartTest(t, sim.Config{})
	// The service key's endpoints.Api ends with /api, as it always does: taken off silently.
	r := Run(context.Background(), s.ServiceKeyJSON(), Options{})
	wantStatuses(t, r, allPass)
	// The connector form's url must not: /api/ is removed with a warning, then everything passes.
	r = Run(context.Background(), connector(t, s, map[string]string{"url": s.URL() + "/api/"}), Options{})
	wantStatuses(t, r, strings.Replace(allPass, "settings=pass", "settings=warn", 1))
	if set, _ := r.Check("settings"); !strings.Contains(set.Detail, "removed the trailing /api") {
		t.Errorf("settings detail = %q", set.Detail)
	}
	if !r.OK {
		t.Error("a warning must not fail the report")
	}
}

func TestRunWrongCredentials(t *testing.T) {
	s := sim.StartTest(t, sim.Config{ClientSecret: "the-right-secret-value"})
	r := Run(context.Background(), connector(t, s, map[string]string{"clientSecret": "a-wrong-secret-value"}), Options{})
	wantStatuses(t, r, defaultStatuses("settings=pass reach=pass token=fail scopes=skip api=skip api-shape=skip", "skip", "quota=skip"))
	tok, _ := r.Check("token")
	if tok.Hint != hintBadClient || !strings.Contains(tok.Detail, "HTTP 401") {
		t.Errorf("token = %+v", tok)
	}
	for _, id := range []string{"scopes", "api", "monitor:hm"} {
		if c, _ := r.Check(id); c.Detail != "needs a token" {
			t.Errorf("%s detail = %q, want needs a token", id, c.Detail)
		}
	}

	// The fault switch gives the same answer for the right secret.
	s.SetFaults(sim.Faults{WrongCredentials: true})
	r = Run(context.Background(), s.ConnectorJSON(), Options{})
	if tok, _ := r.Check("token"); tok.Status != Fail || tok.Hint != hintBadClient {
		t.Errorf("token with WrongCredentials = %+v", tok)
	}
}

func TestRunMissingScope(t *testing.T) {
	s := sim.StartTest(t, sim.Config{})
	s.SetFaults(sim.Faults{MissingScopes: []string{"calm-api.jam.read"}})
	r := Run(context.Background(), s.ConnectorJSON(), Options{})
	sc, _ := r.Check("scopes")
	if sc.Status != Fail || r.OK {
		t.Fatalf("scopes = %+v", sc)
	}
	if !slices.Equal(sc.Missing, []string{"$XSMASTERAPPNAME.calm-api.jam.read"}) {
		t.Errorf("missing = %q", sc.Missing)
	}
	if !strings.Contains(sc.Detail, "missing calm-api.jam.read (jam, logs-jam-def, logs-jam-run, logs-jam-run-step, jobs)") {
		t.Errorf("detail = %q", sc.Detail)
	}
	// The hint carries the parameters to paste, with every authority the monitors need.
	_, params, ok := strings.Cut(sc.Hint, "Parameters: ")
	if !ok {
		t.Fatalf("hint has no parameters: %q", sc.Hint)
	}
	var p struct {
		XS struct {
			XSAppName   string   `json:"xsappname"`
			Authorities []string `json:"authorities"`
		} `json:"xs-security"`
	}
	if err := json.Unmarshal([]byte(params), &p); err != nil {
		t.Fatalf("parameters %q: %v", params, err)
	}
	if p.XS.XSAppName != "calm-sim" {
		t.Errorf("xsappname = %q", p.XS.XSAppName)
	}
	for _, want := range []string{"$XSMASTERAPPNAME.calm-api.jam.read", "$XSMASTERAPPNAME.calm-api.hm.read",
		"$XSMASTERAPPNAME.calm-api.metrics.read", "$XSMASTERAPPNAME.calm-api.analytics.read"} {
		if !slices.Contains(p.XS.Authorities, want) {
			t.Errorf("authorities %q lack %s", p.XS.Authorities, want)
		}
	}
}

func TestRunMissingMetricsScope(t *testing.T) {
	s := sim.StartTest(t, sim.Config{})
	s.SetFaults(sim.Faults{MissingScopes: []string{sim.ScopeMetrics}})
	r := Run(context.Background(), s.ConnectorJSON(), Options{Monitors: []string{"hm"}})
	wantStatuses(t, r, "settings=pass reach=pass token=pass scopes=fail api=pass api-shape=warn monitor:hm=fail quota=skip")
	hm, _ := r.Check("monitor:hm")
	if !slices.Equal(hm.Missing, []string{"$XSMASTERAPPNAME.calm-api.metrics.read"}) || !strings.Contains(hm.Detail, "HTTP 403") {
		t.Errorf("monitor:hm = %+v", hm)
	}
}

func TestRunUnconfirmedScopesWarn(t *testing.T) {
	scopes := slices.DeleteFunc(slices.Clone(sim.AllScopes), func(s string) bool {
		return s == sim.ScopeSUM
	})
	s := sim.StartTest(t, sim.Config{Scopes: scopes})
	r := Run(context.Background(), s.ConnectorJSON(), Options{Monitors: []string{"hm", "sum"}})
	sc, _ := r.Check("scopes")
	if sc.Status != Warn || !strings.Contains(sc.Detail, "calm-api.sum.read (sum)") || !strings.Contains(sc.Detail, "the monitor probe decides") {
		t.Fatalf("scopes = %+v", sc)
	}
	// The probe decides: the simulator refuses it without its scope.
	sum, _ := r.Check("monitor:sum")
	if sum.Status != Fail || !slices.Equal(sum.Missing, []string{"$XSMASTERAPPNAME.calm-api.sum.read"}) ||
		!strings.Contains(sum.Hint, `"$XSMASTERAPPNAME.calm-api.sum.read"`) {
		t.Errorf("monitor:sum = %+v", sum)
	}
	if hm, _ := r.Check("monitor:hm"); hm.Status != Pass {
		t.Errorf("monitor:hm = %+v", hm)
	}
}

func TestRunHTMLPage(t *testing.T) {
	s := sim.StartTest(t, sim.Config{})
	s.SetFaults(sim.Faults{HTMLPage: true})
	r := Run(context.Background(), s.ConnectorJSON(), Options{Monitors: []string{"hm"}})
	wantStatuses(t, r, "settings=pass reach=pass token=pass scopes=pass api=fail api-shape=skip monitor:hm=skip quota=skip")
	if api, _ := r.Check("api"); api.Hint != hintAPIHTML {
		t.Errorf("api = %+v", api)
	}
}

func TestRunAPINotFound(t *testing.T) {
	s := sim.StartTest(t, sim.Config{})
	r := Run(context.Background(), connector(t, s, map[string]string{"url": s.URL() + "/api/v2"}), Options{Monitors: []string{"hm"}})
	wantStatuses(t, r, "settings=pass reach=pass token=pass scopes=pass api=fail api-shape=skip monitor:hm=skip quota=skip")
	if api, _ := r.Check("api"); api.Hint != hintAPI404 || !strings.Contains(api.Detail, "404") {
		t.Errorf("api = %+v", api)
	}
}

func TestRunUnreachable(t *testing.T) {
	s := sim.StartTest(t, sim.Config{})
	closed := closedPort(t)
	// The API host refuses connections: reach fails, the token still works, the API is skipped.
	r := Run(context.Background(), connector(t, s, map[string]string{"url": "http://" + closed}), Options{Monitors: []string{"hm"}})
	wantStatuses(t, r, "settings=pass reach=fail token=pass scopes=pass api=skip api-shape=skip monitor:hm=skip quota=skip")
	reach, _ := r.Check("reach")
	if !strings.Contains(reach.Detail, "api "+closed+": tcp failed") || !strings.Contains(reach.Hint, "cannot connect to "+closed) {
		t.Errorf("reach = %+v", reach)
	}
	// The authentication server refuses connections: no token, nothing after it.
	r = Run(context.Background(), connector(t, s, map[string]string{"authenticationServer": "http://" + closed}), Options{Monitors: []string{"hm"}})
	wantStatuses(t, r, "settings=pass reach=fail token=skip scopes=skip api=skip api-shape=skip monitor:hm=skip quota=skip")
	if tok, _ := r.Check("token"); tok.Detail != "needs the authentication server to be reachable" {
		t.Errorf("token = %+v", tok)
	}
}

func TestRunTokenHTML(t *testing.T) {
	s := sim.StartTest(t, sim.Config{})
	// An authentication server URL with a path answers the simulator's HTML 404 page.
	r := Run(context.Background(), connector(t, s, map[string]string{"authenticationServer": s.URL() + "/login"}), Options{Monitors: []string{"hm"}})
	tok, _ := r.Check("token")
	if tok.Status != Fail || tok.Hint != hintTokenHTML {
		t.Fatalf("token = %+v", tok)
	}
}

func TestRunLoopbackRefusedByAddrGuard(t *testing.T) {
	s := sim.StartTest(t, sim.Config{})
	noLoop := Allowlist{Patterns: []string{"*.alm.cloud.sap"}}
	// AllowHost passes (as if the name were allowed), but the address guard stops the dial.
	r := Run(context.Background(), s.ConnectorJSON(), Options{
		Monitors: []string{"hm"}, AllowHost: func(string) error { return nil }, AllowAddr: noLoop.Addr})
	wantStatuses(t, r, "settings=pass reach=fail token=skip scopes=skip api=skip api-shape=skip monitor:hm=skip quota=skip")
	if reach, _ := r.Check("reach"); !strings.Contains(reach.Detail, "address check failed") {
		t.Errorf("reach = %+v", reach)
	}
}

func TestRunCancelled(t *testing.T) {
	s := sim.StartTest(t, sim.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := Run(ctx, s.ConnectorJSON(), Options{Monitors: []string{"hm"}})
	wantStatuses(t, r, "settings=fail reach=skip token=skip scopes=skip api=skip api-shape=skip monitor:hm=skip quota=skip")
	if r.OK || !strings.Contains(r.Checks[0].Detail, "cancelled") {
		t.Fatalf("report = %+v", r)
	}
}

// tokenRecorder remembers every access token the token endpoint issued.
type tokenRecorder struct {
	mu     sync.Mutex
	tokens []string
}

func (rec *tokenRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || !strings.HasSuffix(req.URL.Path, "/oauth/token") {
		return resp, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(body, &tok) == nil && tok.AccessToken != "" {
		rec.mu.Lock()
		rec.tokens = append(rec.tokens, tok.AccessToken)
		rec.mu.Unlock()
	}
	return resp, nil
}

// No secret and no token reaches the report, its JSON or its table, whether the test passes or
// the credentials are wrong.
func TestReportHoldsNoSecret(t *testing.T) {
	const secret = "Sup3r-Secret/Value+xyz="
	s := sim.StartTest(t, sim.Config{ClientSecret: secret})
	for _, c := range []struct {
		name string
		raw  []byte
		ok   bool
	}{
		{"correct secret", s.ConnectorJSON(), true},
		{"wrong secret", connector(t, s, map[string]string{"clientSecret": secret + "-wrong"}), false},
		{"service key", s.ServiceKeyJSON(), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := &tokenRecorder{}
			r := Run(context.Background(), c.raw, Options{HTTPClient: &http.Client{Transport: rec}})
			if r.OK != c.ok {
				t.Fatalf("ok = %v, want %v: %s", r.OK, c.ok, statuses(r))
			}
			if c.ok && len(rec.tokens) == 0 {
				t.Fatal("no token was issued: the test cannot see a leak")
			}
			js, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			var table bytes.Buffer
			if err := Render(&table, r); err != nil {
				t.Fatal(err)
			}
			for _, out := range []string{string(js), table.String()} {
				if strings.Contains(out, secret) {
					t.Errorf("the client secret appears in:\n%s", out)
				}
				for _, tok := range rec.tokens {
					if strings.Contains(out, tok) {
						t.Errorf("an issued token appears in:\n%s", out)
					}
				}
			}
		})
	}
}

// scrub is the last guard: a secret that somehow reached a detail is replaced.
func TestScrub(t *testing.T) {
	r := Report{Connector: "c", Checks: []Check{{ID: "x", Detail: "echo: hunter22!", Hint: "hunter22!", Missing: []string{"hunter22!"}}}}
	scrub(&r, []string{"hunter22!", "", "ab"})
	js, _ := json.Marshal(r)
	if strings.Contains(string(js), "hunter22") {
		t.Fatalf("scrub left the secret: %s", js)
	}
}

func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// Over https the reach check shakes hands with the host, and an x509 service key gets its token
// over mutual TLS.
func TestRunTLSAndX509(t *testing.T) {
	pki, err := sim.NewTestPKI()
	if err != nil {
		t.Fatal(err)
	}
	s := sim.New(sim.Config{})
	if err := s.StartTLS("127.0.0.1:0", pki); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.CAPool()}}}

	r := Run(context.Background(), s.ServiceKeyJSON(), Options{HTTPClient: hc, Monitors: []string{"hm"}})
	wantStatuses(t, r, "settings=pass reach=pass token=pass scopes=pass api=pass api-shape=pass monitor:hm=pass quota=pass")
	if reach, _ := r.Check("reach"); !strings.Contains(reach.Detail, "tls") || !strings.Contains(reach.Detail, "TLS 1.3") {
		t.Errorf("reach = %+v", reach)
	}

	// Without the test CA the handshake fails, and the reach check says so.
	r = Run(context.Background(), s.ServiceKeyJSON(), Options{Monitors: []string{"hm"}})
	reach, _ := r.Check("reach")
	if reach.Status != Fail || !strings.Contains(reach.Detail, "tls failed") || !strings.Contains(reach.Hint, "TLS handshake") {
		t.Errorf("reach without the CA = %+v", reach)
	}
}

// The logs monitor is probed through the logs API (a service id from its provider's filters),
// and needs its own scope but not the metrics scope.
func TestRunLogsMonitor(t *testing.T) {
	s := sim.StartTest(t, sim.Config{})
	r := Run(context.Background(), s.ConnectorJSON(), Options{Monitors: []string{"logs"}})
	wantStatuses(t, r, "settings=pass reach=pass token=pass scopes=pass api=pass api-shape=skip monitor:logs=pass quota=pass")
	if c, _ := r.Check("monitor:logs"); !strings.Contains(c.Detail, "log records of") {
		t.Errorf("monitor:logs = %+v", c)
	}
	if c, _ := r.Check("scopes"); strings.Contains(c.Detail, "calm-api.metrics.read (logs)") {
		t.Errorf("the logs monitor asked for the metrics scope: %+v", c)
	}

	// Without its provider's scope (published: calm-api.exm.read for exm.im) the scopes check
	// fails and names the exact authority line to add, and so does the probe.
	scopes := slices.DeleteFunc(slices.Clone(sim.AllScopes), func(sc string) bool { return sc == sim.ScopeEXM })
	s = sim.StartTest(t, sim.Config{Scopes: scopes})
	r = Run(context.Background(), s.ConnectorJSON(), Options{Monitors: []string{"logs"}})
	if c, _ := r.Check("scopes"); c.Status != Fail || !slices.Equal(c.Missing, []string{"$XSMASTERAPPNAME.calm-api.exm.read"}) {
		t.Errorf("scopes without calm-api.exm.read = %+v", c)
	}
	if c, _ := r.Check("monitor:logs"); c.Status != Fail || !slices.Equal(c.Missing, []string{"$XSMASTERAPPNAME.calm-api.exm.read"}) {
		t.Errorf("monitor:logs without its scope = %+v", c)
	}
}

// Against the strict simulator (dimensions and metrics required on calm-metrics, the logs
// provider required) every monitor probe passes: each probe asks as the collector does.
func TestRunPassAgainstTheStrictSimulator(t *testing.T) {
	s := sim.StartTest(t, sim.Config{Strict: true})
	r := Run(context.Background(), s.ConnectorJSON(), Options{Monitors: []string{"hm", "rum", "jam", "exm", "iep", "logs"}})
	wantStatuses(t, r, "settings=pass reach=pass token=pass scopes=pass api=pass api-shape=warn monitor:hm=pass monitor:rum=pass monitor:jam=pass monitor:exm=pass monitor:iep=pass monitor:logs=pass quota=pass")
	// api-shape tells the strict reading: rows paging and a page cap below the limit.
	if c, _ := r.Check("api-shape"); !strings.Contains(c.Detail, "limit/offset count rows (limit=1 gave 1 row of 5 data points") ||
		!strings.Contains(c.Detail, "caps a page at 25 below the limit 100") || !strings.Contains(c.Detail, "from/to honoured") || c.Hint == "" {
		t.Errorf("api-shape = %+v", c)
	}
}

// Against the default simulator api-shape finds points paging, no cap and from/to honoured.
func TestAPIShapeDefault(t *testing.T) {
	s := sim.StartTest(t, sim.Config{})
	r := Run(context.Background(), s.ConnectorJSON(), Options{Monitors: []string{"hm"}})
	c, _ := r.Check("api-shape")
	for _, want := range []string{"limit/offset count data points", "no page cap below limit=100", "from/to honoured", "protobuf-binary served, gzip served"} {
		if c.Status != Pass || !strings.Contains(c.Detail, want) {
			t.Errorf("api-shape = %+v; want pass with %q", c, want)
		}
	}
}

// Weather does not fail the test: 503s and 429s (with Retry-After) on the probes are retried
// within the check's time limit.
func TestRunRetriesWeather(t *testing.T) {
	s := sim.StartTest(t, sim.Config{})
	s.SetFaults(sim.Faults{ServerErrors: 2})
	wantStatuses(t, Run(context.Background(), s.ConnectorJSON(), Options{}), allPass)
	s.SetFaults(sim.Faults{RateLimit: 2, RetryAfter: "0"})
	wantStatuses(t, Run(context.Background(), s.ConnectorJSON(), Options{}), allPass)
}

// TestQuotaProjection: the quota check measures a sample page per metrics monitor and
// projects the month; it warns when the projection passes half the quota (a setting), with
// a hint, and is skipped when no enabled monitor answered with anything to measure (quota_test.go
// has the logs, traces and analytics monitors).
func TestQuotaProjection(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 11, 25, 10, 7, 0, 0, time.UTC) }
	s := sim.StartTest(t, sim.Config{Services: 240, Now: now})
	r := Run(context.Background(), s.ConnectorJSON(), Options{Monitors: []string{"hm", "jam"}, Now: now})
	q, _ := r.Check("quota")
	if q.Status != Pass || !strings.Contains(q.Detail, "of the 24.00 GB quota") || !strings.Contains(q.Detail, "hm ") || !strings.Contains(q.Detail, "jam ") {
		t.Fatalf("quota = %+v, want pass naming hm and jam", q)
	}
	if !strings.Contains(q.Detail, "re-checks for late data") {
		t.Errorf("quota = %+v, want the settle re-checks in the projection", q)
	}
	// The same tenant with a quota far below its projection warns.
	small := Run(context.Background(), s.ConnectorJSON(), Options{Monitors: []string{"hm", "jam"}, QuotaBytes: 10_000_000, SchedulePeriod: 15 * time.Minute, Now: now})
	w, _ := small.Check("quota")
	if w.Status != Warn || !strings.Contains(w.Hint, "above 50 %") || !strings.Contains(w.Detail, "10.0 MB quota") || !strings.Contains(w.Detail, "every 15m0s") || !small.OK {
		t.Errorf("quota with a 10 MB quota = %+v (report ok %v), want warn", w, small.OK)
	}
	none := Run(context.Background(), s.ConnectorJSON(), Options{Monitors: []string{"status"}, Now: now})
	if c, _ := none.Check("quota"); c.Status != Skip {
		t.Errorf("quota of status events alone = %+v, want skip", c)
	}
}

// A 503 with an HTML page is Cloud ALM being unavailable, not a wrong URL (that hint belongs to
// a 404 or 200 HTML page).
func TestAPIFailure503HTMLIsUnavailable(t *testing.T) {
	var tt tester
	c := tt.apiFailure(&calm.APIError{StatusCode: 503, HTML: true, Method: "GET", Path: "/api/calm-analytics/v1/analytics/providers", CorrelationID: "c-1"}, "", "api")
	if c.Status != Fail || !strings.HasPrefix(c.Detail, "Cloud ALM unavailable") || c.Hint != hintAPIUnavailable || strings.Contains(c.Detail+c.Hint, "URL setting") {
		t.Errorf("503 HTML = %+v", c)
	}
	c = tt.apiFailure(&calm.APIError{StatusCode: 200, HTML: true, Method: "GET", Path: "/x"}, "", "api")
	if c.Hint != hintAPIHTML {
		t.Errorf("200 HTML = %+v, want the URL hint", c)
	}
}

// A scope missing for a monitor that "auto" picked only makes a collection skip that monitor:
// the scopes check warns with the authority line to add and the probe is skipped, the test
// passes. Named, the same monitor fails; auto with nothing left to collect fails too.
func TestRunMissingScopeUnderAutoWarns(t *testing.T) {
	s := sim.StartTest(t, sim.Config{})
	s.SetFaults(sim.Faults{MissingScopes: []string{"calm-api.jam.read"}})
	r := Run(context.Background(), s.ConnectorJSON(), Options{Monitors: []string{"hm", "jam"}, Auto: true})
	sc, _ := r.Check("scopes")
	if sc.Status != Warn || !r.OK {
		t.Fatalf("scopes = %+v, report ok %v; want a warn and an ok report", sc, r.OK)
	}
	if !slices.Equal(sc.Missing, []string{"$XSMASTERAPPNAME.calm-api.jam.read"}) || !strings.HasPrefix(sc.Detail, "auto skips jam: missing calm-api.jam.read (jam)") {
		t.Errorf("scopes = %+v", sc)
	}
	if !strings.Contains(sc.Hint, "$XSMASTERAPPNAME.calm-api.jam.read") {
		t.Errorf("hint lacks the authority line: %q", sc.Hint)
	}
	wantStatuses(t, r, "settings=pass reach=pass token=pass scopes=warn api=pass api-shape=pass monitor:hm=pass monitor:jam=skip quota=pass")

	named := Run(context.Background(), s.ConnectorJSON(), Options{Monitors: []string{"hm", "jam"}})
	if sc, _ := named.Check("scopes"); sc.Status != Fail || named.OK {
		t.Errorf("named monitors: scopes = %+v, ok %v; want a failure", sc, named.OK)
	}

	s.SetFaults(sim.Faults{MissingScopes: []string{sim.ScopeMetrics}})
	none := Run(context.Background(), s.ConnectorJSON(), Options{Monitors: []string{"hm", "jam"}, Auto: true})
	if sc, _ := none.Check("scopes"); sc.Status != Fail || none.OK {
		t.Errorf("auto with nothing to collect: scopes = %+v, ok %v; want a failure", sc, none.OK)
	}
}
