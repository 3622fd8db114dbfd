package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/state"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

// simSecret is the simulator's client secret in these tests: special characters, so that an
// escaped copy in a page would be caught too.
const simSecret = "s1m-S3cret&<quoted>\"'"

func startSim(t *testing.T, cfg sim.Config) *sim.Server {
	t.Helper()
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = simSecret
	}
	return sim.StartTest(t, cfg)
}

func fieldsOf(t *testing.T, s *sim.Server) url.Values {
	t.Helper()
	var c map[string]string
	if err := json.Unmarshal(s.ConnectorJSON(), &c); err != nil {
		t.Fatal(err)
	}
	return url.Values{"name": {c["name"]}, "authenticationServer": {c["authenticationServer"]},
		"clientId": {c["clientId"]}, "clientSecret": {c["clientSecret"]}, "url": {c["url"]}}
}

func TestFormRendersWithSecurityHeaders(t *testing.T) {
	tc := startConsole(t, Config{Connectors: Dir(t.TempDir())})
	resp, body := tc.get(t, "/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d", resp.StatusCode)
	}
	for _, want := range []string{"Add Connector — Web Service", `name="authenticationServer"`, `name="clientId"`,
		`name="clientSecret"`, `name="url"`, `name="serviceKey"`, `id="btn-test"`, `id="btn-save"`,
		`<script src="/static/app.js" defer></script>`, `<link rel="stylesheet" href="/static/app.css">`} {
		if !strings.Contains(body, want) {
			t.Errorf("the form lacks %s", want)
		}
	}
	if strings.Contains(body, "style=") || strings.Contains(body, "<script>") || strings.Contains(body, "onclick") {
		t.Error("the page has inline style or script, which the CSP forbids")
	}
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Content-Type":            "text/html; charset=utf-8",
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	ck := resp.Header.Get("Set-Cookie")
	if !strings.Contains(ck, csrfCookie+"=") || !strings.Contains(ck, "SameSite=Strict") || !strings.Contains(ck, "HttpOnly") {
		t.Errorf("Set-Cookie = %q, want a SameSite=Strict HttpOnly session token", ck)
	}
	// The assets are embedded and served with the same headers.
	for path, ctype := range map[string]string{"/static/app.js": "text/javascript", "/static/app.css": "text/css"} {
		resp, body := tc.get(t, path)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), ctype) || len(body) < 100 {
			t.Errorf("GET %s = %d %q (%d bytes)", path, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
		if resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s has no CSP", path)
		}
	}
}

func TestStateChangingRequestsNeedTheCSRFToken(t *testing.T) {
	s := startSim(t, sim.Config{})
	dir := t.TempDir()
	tc := startConsole(t, Config{Connectors: Dir(dir)})
	tok := tc.token(t)
	form := fieldsOf(t, s)

	t.Run("no token", func(t *testing.T) {
		resp, body := tc.post(t, "/save", form, true)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "anti-CSRF token") {
			t.Errorf("POST without token = %d %q, want 403", resp.StatusCode, body)
		}
	})
	t.Run("wrong token", func(t *testing.T) {
		f := cloneValues(form)
		f.Set("csrf", strings.Repeat("A", len(tok)))
		if resp, _ := tc.post(t, "/save", f, true); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST with a wrong token = %d, want 403", resp.StatusCode)
		}
	})
	t.Run("token without the session cookie", func(t *testing.T) {
		f := cloneValues(form)
		f.Set("csrf", tok)
		req, _ := http.NewRequest(http.MethodPost, tc.URL+"/save", strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req) // no cookie jar
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST with a token but no cookie = %d, want 403", resp.StatusCode)
		}
	})
	t.Run("cross-site origin", func(t *testing.T) {
		f := cloneValues(form)
		f.Set("csrf", tok)
		req, _ := http.NewRequest(http.MethodPost, tc.URL+"/save", strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "http://evil.example")
		if resp, _ := tc.do(t, req); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST from another origin = %d, want 403", resp.StatusCode)
		}
		req, _ = http.NewRequest(http.MethodPost, tc.URL+"/save", strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		if resp, _ := tc.do(t, req); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST marked cross-site = %d, want 403", resp.StatusCode)
		}
	})
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a refused request saved something: %v", entries)
	}
	t.Run("token in the header", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, tc.URL+"/test", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(csrfHeader, tok)
		req.Header.Set("X-Console-Fragment", "1")
		if resp, body := tc.do(t, req); resp.StatusCode != http.StatusOK || !strings.Contains(body, `data-ok="true"`) {
			t.Errorf("POST with the header token = %d\n%s", resp.StatusCode, body)
		}
	})
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func TestHostHeaderIsChecked(t *testing.T) {
	tc := startConsole(t, Config{Connectors: Dir(t.TempDir())})
	_, port, _ := strings.Cut(strings.TrimPrefix(tc.URL, "http://"), ":")
	for host, want := range map[string]int{
		"attacker.example:" + port: http.StatusMisdirectedRequest, // DNS rebinding
		"127.0.0.1:1":              http.StatusMisdirectedRequest,
		"localhost:" + port:        http.StatusOK,
		"127.0.0.1:" + port:        http.StatusOK,
	} {
		req, _ := http.NewRequest(http.MethodGet, tc.URL+"/", nil)
		req.Host = host
		if resp, _ := tc.do(t, req); resp.StatusCode != want {
			t.Errorf("Host %s: %d, want %d", host, resp.StatusCode, want)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	tc := startConsole(t, Config{Connectors: Dir(t.TempDir())})
	tok := tc.token(t)
	form := url.Values{"csrf": {tok}, "serviceKey": {strings.Repeat("x", MaxBodyBytes)}}
	resp, body := tc.post(t, "/test", form, true)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "64 KiB") {
		t.Errorf("POST over 64 KiB = %d %q, want 413", resp.StatusCode, body)
	}
}

func TestListenRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.10:0", "[::]:0", "example.com:80"} {
		ln, err := Listen(addr, false)
		if err == nil {
			ln.Close()
			t.Errorf("Listen(%q) accepted a non-loopback address", addr)
			continue
		}
		if !strings.Contains(err.Error(), "not a loopback address") || !strings.Contains(err.Error(), "--force-listen") {
			t.Errorf("Listen(%q) = %v, want a refusal naming --force-listen", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0"} {
		ln, err := Listen(addr, false)
		if err != nil {
			t.Errorf("Listen(%q) = %v", addr, err)
			continue
		}
		ln.Close()
	}
	if _, err := Listen("127.0.0.1", false); err == nil || !strings.Contains(err.Error(), "HOST:PORT") {
		t.Errorf("Listen without a port = %v", err)
	}
}

func TestSaveOnlyWhenTheTestPasses(t *testing.T) {
	s := startSim(t, sim.Config{})
	dir := t.TempDir()
	tc := startConsole(t, Config{Connectors: Dir(dir)})
	tok := tc.token(t)
	path := filepath.Join(dir, "sim.json")

	bad := fieldsOf(t, s)
	bad.Set("csrf", tok)
	bad.Set("clientSecret", "wrong-secret-value")
	_, body := tc.post(t, "/save", bad, true)
	if got := checkStatuses(body)["token"]; got != "fail" {
		t.Errorf("token check with a wrong secret = %q, want fail\n%s", got, body)
	}
	if !strings.Contains(body, `id="saved"`) || !strings.Contains(body, "not saved: the connection test failed") {
		t.Errorf("the answer does not say the settings were not saved:\n%s", body)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a failed test saved the connector (stat: %v)", err)
	}

	good := fieldsOf(t, s)
	good.Set("csrf", tok)
	_, body = tc.post(t, "/save", good, true)
	for id, st := range checkStatuses(body) {
		if st != "pass" {
			t.Errorf("check %s = %s, want pass", id, st)
		}
	}
	if !strings.Contains(body, `class="saved yes"`) {
		t.Fatalf("the passing save was not saved:\n%s", body)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("connector file mode %v, want 0600", fi.Mode().Perm())
	}
	stored, _ := os.ReadFile(path)
	settings, _, err := calm.ParseSettings(stored)
	if err != nil || settings.ClientSecret.Reveal() != simSecret || settings.URL != s.URL() {
		t.Fatalf("stored settings %v (%v), want the simulator's", settings, err)
	}

	// A second "new" connector of the same name does not overwrite the first.
	_, body = tc.post(t, "/save", good, true)
	if !strings.Contains(body, "exists already") {
		t.Errorf("saving a new connector over a stored one:\n%s", body)
	}

	// Editing: an empty secret keeps the stored one (the test passes with it) and the file
	// keeps it; a failing edit leaves the file alone.
	edit := url.Values{"csrf": {tok}, "connector": {"sim"}, "name": {"sim"}, "authenticationServer": {s.AuthURL()},
		"clientId": {sim.DefaultClientID}, "url": {s.URL() + "/api"}}
	_, body = tc.post(t, "/save", edit, true)
	if st := checkStatuses(body); st["token"] != "pass" || st["settings"] != "warn" || !strings.Contains(body, `class="saved yes"`) {
		t.Errorf("edit with an empty secret: %v\n%s", st, body)
	}
	stored, _ = os.ReadFile(path)
	if settings, _, _ := calm.ParseSettings(stored); settings.ClientSecret.Reveal() != simSecret || settings.URL != s.URL() {
		t.Errorf("after the edit the stored settings are %v", settings)
	}
	edit.Set("clientSecret", "another-wrong-one")
	tc.post(t, "/save", edit, true)
	after, _ := os.ReadFile(path)
	if string(after) != string(stored) {
		t.Error("a failing edit changed the stored secret")
	}
}

func TestSecretNeverInAnyResponse(t *testing.T) {
	s := startSim(t, sim.Config{})
	dir := t.TempDir()
	var logs testkit.SyncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	tc := startConsole(t, Config{Connectors: Dir(dir), Records: filepath.Join(dir, "none.ndjson"), Logger: logger})
	tok := tc.token(t)

	key := url.Values{"csrf": {tok}, "name": {"sim"}, "serviceKey": {string(s.ServiceKeyJSON())}}
	tc.post(t, "/test", key, true)
	tc.post(t, "/test", key, false)
	tc.post(t, "/save", key, true)
	wrong := fieldsOf(t, s)
	wrong.Set("csrf", tok)
	wrong.Set("connector", "sim")
	wrong.Set("clientSecret", "typed-Wrong-secret")
	tc.post(t, "/test", wrong, true)
	tc.post(t, "/save", wrong, false)
	tc.post(t, "/test", url.Values{"csrf": {tok}, "serviceKey": {`{"uaa":{"clientsecret":"half-pasted-secret"`}}, true)
	tc.get(t, "/?c=sim")
	tc.get(t, "/")
	tc.get(t, "/status")

	_, page := tc.get(t, "/?c=sim")
	if !strings.Contains(page, `id="secret-state"`) || !strings.Contains(page, "<strong>set</strong>") {
		t.Errorf("the stored connector's page does not say the secret is set:\n%s", page)
	}
	if !strings.Contains(page, `value="`+s.URL()+`"`) || !strings.Contains(page, `value="`+s.AuthURL()+`"`) {
		t.Error("the stored connector's page does not show its URL and authentication server")
	}
	for _, secret := range []string{simSecret, "typed-Wrong-secret", "half-pasted-secret", "s1m-S3cret"} {
		for i, b := range tc.bodies {
			if strings.Contains(b, secret) {
				t.Errorf("response %d contains the secret %q", i, secret)
			}
		}
	}
	if strings.Contains(logs.String(), "reached a page") {
		t.Errorf("a secret reached a page (the last guard redacted it):\n%s", logs.String())
	}
	for _, secret := range []string{simSecret, "typed-Wrong-secret", "half-pasted-secret"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log contains the secret %q", secret)
		}
	}
	if !strings.Contains(logs.String(), "saved connector") {
		t.Errorf("the log does not record the save:\n%s", logs.String())
	}
	if len(tc.bodies) < 10 {
		t.Fatalf("only %d responses checked", len(tc.bodies))
	}
}

func TestMissingScopesShowTheParametersToCopy(t *testing.T) {
	s := startSim(t, sim.Config{})
	s.SetFaults(sim.Faults{MissingScopes: []string{"calm-api.jam.read"}})
	tc := startConsole(t, Config{Connectors: Dir(t.TempDir())})
	form := fieldsOf(t, s)
	form.Set("csrf", tc.token(t))
	_, body := tc.post(t, "/test", form, true)
	// The console tests auto's pick of monitors: a missing scope only skips jam, so it warns,
	// with the parameters to copy all the same.
	if st := checkStatuses(body)["scopes"]; st != "warn" {
		t.Fatalf("scopes = %q, want warn\n%s", st, body)
	}
	pre := regexp.MustCompile(`(?s)<pre id="(params-\d+)">(.*?)</pre>\s*<button type="button" class="copy" data-copy="(params-\d+)">Copy</button>`).FindStringSubmatch(body)
	if len(pre) != 4 || pre[1] != pre[3] {
		t.Fatalf("no parameters box with its copy button:\n%s", body)
	}
	params := strings.NewReplacer("&#34;", `"`, "&quot;", `"`).Replace(pre[2])
	var v struct {
		XS struct {
			Authorities []string `json:"authorities"`
		} `json:"xs-security"`
	}
	if err := json.Unmarshal([]byte(params), &v); err != nil {
		t.Fatalf("parameters %q are not JSON: %v", params, err)
	}
	if !strings.Contains(strings.Join(v.XS.Authorities, ","), "$XSMASTERAPPNAME.calm-api.jam.read") {
		t.Errorf("parameters %v lack the missing authority", v.XS.Authorities)
	}
	if !strings.Contains(body, "<code>$XSMASTERAPPNAME.calm-api.jam.read</code>") {
		t.Error("the missing authority line is not listed")
	}
}

func TestPlainFormPostRendersThePage(t *testing.T) {
	s := startSim(t, sim.Config{})
	tc := startConsole(t, Config{Connectors: Dir(t.TempDir())})
	form := fieldsOf(t, s)
	form.Set("csrf", tc.token(t))
	resp, body := tc.post(t, "/test", form, false)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<!doctype html>") || !strings.Contains(body, `data-ok="true"`) {
		t.Fatalf("plain POST /test = %d\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `value="`+s.URL()+`"`) {
		t.Error("the page does not keep the typed URL")
	}
	_, body = tc.post(t, "/test", url.Values{"csrf": {form.Get("csrf")}}, true)
	if !strings.Contains(body, "fill in authentication server") {
		t.Errorf("an empty form:\n%s", body)
	}
}

func TestStatusViewDrawsCheckpointsAndRecords(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 2, 0, 0, time.UTC)
	dir := t.TempDir()
	store, err := state.NewFileStore(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, cp := range []state.Checkpoint{
		{Tenant: "prod", Monitor: "hm", Next: now.Add(-7 * time.Minute).Truncate(5 * time.Minute), LastRunAt: now.Add(-time.Minute), LastPoints: 90},
		{Tenant: "prod", Monitor: "jam", Next: now.Add(-3 * time.Hour), LastRunAt: now.Add(-time.Minute), LastError: "HTTP 403 from /api/calm-metrics/v1/metrics"},
	} {
		if err := store.Put(ctx, cp); err != nil {
			t.Fatal(err)
		}
	}
	records := filepath.Join(dir, "records.ndjson")
	var lines []string
	// hm: 3 points in each of the six windows 11:25 … 11:50; one point from two days ago.
	for w := 0; w < 6; w++ {
		for i := 0; i < 3; i++ {
			ts := time.Date(2026, 11, 25, 11, 25+5*w, i, 0, time.UTC)
			lines = append(lines, fmt.Sprintf(`{"id":"%d-%d","tenant":"prod","monitor":"hm","kind":"metric","name":"m","time":%q,"value":1}`, w, i, ts.Format(time.RFC3339)))
		}
	}
	lines = append(lines, `{"id":"old","tenant":"prod","monitor":"hm","kind":"metric","name":"m","time":"2026-11-23T11:00:00Z","value":1}`,
		`{"id":"e","tenant":"other","monitor":"status","kind":"event","name":"x","time":"2026-11-25T11:40:00Z"}`,
		`not json`)
	if err := os.WriteFile(records, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tc := startConsole(t, Config{Connectors: Fixed(nil), State: store, StateName: "state", Records: records, Tenants: []string{"prod"},
		Now: func() time.Time { return now }})
	resp, body := tc.get(t, "/status")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /status = %d", resp.StatusCode)
	}
	row := func(tenant, monitor string) string {
		m := regexp.MustCompile(`(?s)<tr data-tenant="` + tenant + `" data-monitor="` + monitor + `"[^>]*>(.*?)</tr>`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no row for %s/%s:\n%s", tenant, monitor, body)
		}
		return m[1]
	}
	hm := row("prod", "hm")
	if n := strings.Count(hm, "<rect "); n != 6 {
		t.Errorf("hm chart has %d bars, want 6 (one per window with records)", n)
	}
	for _, want := range []string{`<svg class="chart"`, `viewBox="0 0 288 40"`, "18 records in the last 24 h, at most 3 per 5m window",
		"up to 2026-11-25 11:55 UTC", `<span class="lag ok">7m</span>`, "90 records", `<span class="good">none</span>`} {
		if !strings.Contains(hm, want) {
			t.Errorf("hm row lacks %q:\n%s", want, hm)
		}
	}
	jam := row("prod", "jam")
	for _, want := range []string{`<span class="lag stale">3h00m</span>`, "HTTP 403 from /api/calm-metrics/v1/metrics", "0 records"} {
		if !strings.Contains(jam, want) {
			t.Errorf("jam row lacks %q:\n%s", want, jam)
		}
	}
	if ev := row("other", "status"); !strings.Contains(ev, "no checkpoint") || strings.Count(ev, "<rect ") != 1 {
		t.Errorf("a monitor with records but no checkpoint:\n%s", ev)
	}
	if !strings.Contains(body, "1 record lines were not counted") {
		t.Error("the bad record line is not reported")
	}
}

// The status view lists monitors by the monitor table: grouped by API kind in the order metrics,
// integration, events, logs (then kinds it does not know, then monitors the table lacks), the
// core monitors (scope confirmed) first in their group, each under its title; and the lag is
// coloured against the schedule.
func TestStatusViewGroupsMonitorsByAPIKind(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 2, 0, 0, time.UTC)
	store, err := state.NewFileStore(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	// Put in an order that is neither the table's nor the alphabet's.
	for _, m := range []string{"zzz", "logs", "cpi", "status", "sum", "jam", "hm", "aif", "bpm", "logs-im", "xtr"} {
		cp := state.Checkpoint{Tenant: "prod", Monitor: m, Next: now.Add(-20 * time.Minute), LastRunAt: now}
		if err := store.Put(context.Background(), cp); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		schedule time.Duration
		lag      string
	}{{0, "late"}, {15 * time.Minute, "ok"}} {
		// A monitor given as data, of an API kind the table does not have yet.
		extra := []monitor.Monitor{{ID: "xtr", Title: "Widget counts", Scope: "calm-api.widgets.read", API: monitor.API("widgets")}}
		c := startConsole(t, Config{Connectors: Fixed(nil), State: store, StateName: "state", Tenants: []string{"prod"},
			Schedule: tc.schedule, Extra: extra, Now: func() time.Time { return now }})
		_, body := c.get(t, "/status")
		var order []string
		for _, m := range regexp.MustCompile(`<tr (?:class="group" data-group="([a-z]+)"|data-tenant="prod" data-monitor="([a-z-]+)")`).FindAllStringSubmatch(body, -1) {
			if m[1] != "" {
				order = append(order, "["+m[1]+"]")
			} else {
				order = append(order, m[2])
			}
		}
		want := "[metrics] hm jam sum [integration] cpi aif [events] status [logs] logs logs-im [analytics] bpm [widgets] xtr [other] zzz"
		if got := strings.Join(order, " "); got != want {
			t.Errorf("status rows in the order\n %s\nwant\n %s", got, want)
		}
		for _, title := range []string{"Health Monitoring", "Job &amp; Automation Monitoring", "Integration Monitoring: Cloud Integration",
			"Business service status events", "Logs: Integration Monitoring", ">Integration Monitoring<", ">Widgets<", "Widget counts"} {
			if !strings.Contains(body, title) {
				t.Errorf("the status view lacks %q", title)
			}
		}
		if want := `<span class="lag ` + tc.lag + `">20m</span>`; !strings.Contains(body, want) {
			t.Errorf("schedule %s: a lag of 20m should be %s (%s)", tc.schedule, tc.lag, want)
		}
	}
}

// The last guard: a secret that a template would print is replaced, and the slip is logged.
func TestRenderRedactsASecretThatSlipsThrough(t *testing.T) {
	var logs testkit.SyncBuffer
	c, err := New(Config{Connectors: Dir(t.TempDir()), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	rv := newResultView(outcome{}, errors.New("token call with "+simSecret+" failed"))
	c.render(rec, "result", rv, []string{simSecret})
	if strings.Contains(rec.Body.String(), "s1m-S3cret") || !strings.Contains(rec.Body.String(), "[REDACTED]") {
		t.Errorf("rendered %q", rec.Body.String())
	}
	if !strings.Contains(logs.String(), "a secret value reached a page") || strings.Contains(logs.String(), "s1m-S3cret") {
		t.Errorf("log %q", logs.String())
	}
}
