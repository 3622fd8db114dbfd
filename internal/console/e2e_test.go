package console

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/sink"
	"github.com/calm-collector/calm-collector/internal/state"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "copy the end-to-end screenshots to docs/console.png and docs/console-status.png")

// chromium finds the browser, or ends the test: a failure on CI, a skip elsewhere (testkit.Missing).
func chromium(t *testing.T) string {
	t.Helper()
	return testkit.LookPath(t, testkit.Chromium, "/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
}

// browser starts a headless chromium with a fresh profile for one test.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	// A generous bound so that a hang fails the test instead of the whole run; not a timed assertion.
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// artifact writes a test artifact to $CALM_ARTIFACTS (or a temp dir) and returns its path.
func artifact(t *testing.T, name string, data []byte) string {
	t.Helper()
	dir := os.Getenv("CALM_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("artifact: %s", path)
	return path
}

func updateDocs(t *testing.T, name string, data []byte) {
	t.Helper()
	if !*updateScreenshot {
		return
	}
	path := filepath.Join("..", "..", "docs", name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("updated %s", path)
}

// setValue sets a field as if typed or pasted: the value, then an input event for the hints.
func setValue(sel, value string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		js := fmt.Sprintf(`(() => { const el = document.querySelector(%q); el.value = %q; el.dispatchEvent(new Event("input", {bubbles: true})); return true; })()`, sel, value)
		_, err := chromedp.Evaluate[bool](js)(ctx, t)
		return chromedp.Void{}, err
	}
}

// allChecks returns "id=status" for every check of the checklist on the page.
func allChecks(ctx context.Context) ([]string, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("li.check")).map(li => li.dataset.check + "=" + li.dataset.status)`))
}

// TestBrowserAddTestSaveAndBreak drives the console in a real headless browser: inline hints
// while typing, paste the simulator's service key, "Save and test" (every check passes, the
// connector is stored), then a wrong client secret and "Test" (the token check fails with its
// hint).
func TestBrowserAddTestSaveAndBreak(t *testing.T) {
	ctx := browser(t)
	s := startSim(t, sim.Config{})
	dir := t.TempDir()
	tc := startConsole(t, Config{Connectors: Dir(dir)})

	// Inline hints for the classic mistakes, as the user types.
	err := chromedp.Do(ctx,
		chromedp.Navigate(tc.URL+"/"),
		chromedp.WaitVisible("#connector-form"),
		chromedp.SendKeys("#f-url", "https://t.eu10.alm.cloud.sap/api"),
		chromedp.WaitVisible("#hint-url"),
		chromedp.SendKeys("#f-auth", "https://sub.authentication.eu10.hana.ondemand.com/oauth/token"),
		chromedp.WaitVisible("#hint-auth"),
	)
	if err != nil {
		t.Fatalf("type into the form: %v", err)
	}
	urlHint, _ := chromedp.Run(ctx, chromedp.Text("#hint-url"))
	authHint, _ := chromedp.Run(ctx, chromedp.Text("#hint-auth"))
	if !strings.Contains(urlHint, "Leave out /api") || !strings.Contains(authHint, "Leave out /oauth/token") {
		t.Errorf("inline hints: url %q, auth %q", urlHint, authHint)
	}
	if err := chromedp.Do(ctx, setValue("#f-url", "http://tenant.example.com"), chromedp.WaitVisible("#hint-url")); err != nil {
		t.Fatal(err)
	}
	if h, _ := chromedp.Run(ctx, chromedp.Text("#hint-url")); !strings.Contains(h, "Use https://") {
		t.Errorf("http:// hint = %q", h)
	}

	// Paste the service key, name it, Test.
	err = chromedp.Do(ctx,
		setValue("#f-url", ""), setValue("#f-auth", ""),
		chromedp.WaitNotVisible("#hint-url"),
		chromedp.SendKeys("#f-name", "sim"),
		setValue("#f-key", string(s.ServiceKeyJSON())),
		chromedp.WaitVisible("#hint-key"),
		chromedp.Click("#btn-test"),
		chromedp.WaitVisible(`#report[data-ok="true"]`),
	)
	if err != nil {
		t.Fatalf("test the pasted service key: %v", err)
	}
	if h, _ := chromedp.Run(ctx, chromedp.Text("#hint-key")); !strings.Contains(h, "Service key recognised") {
		t.Errorf("service key hint = %q", h)
	}
	checks, err := allChecks(ctx)
	if err != nil || len(checks) < 6 {
		t.Fatalf("checklist %v (%v)", checks, err)
	}
	for _, c := range checks {
		if !strings.HasSuffix(c, "=pass") {
			t.Errorf("service key: check %s, want pass", c)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "sim.json")); !os.IsNotExist(err) {
		t.Fatalf("Test saved the connector (stat: %v)", err)
	}

	// The fields of "+ Add Connector → Web Service", then Save and test.
	fields := fieldsOf(t, s)
	err = chromedp.Do(ctx,
		setValue("#f-key", ""),
		chromedp.SendKeys("#f-auth", fields.Get("authenticationServer")),
		chromedp.SendKeys("#f-client", fields.Get("clientId")),
		chromedp.SendKeys("#f-secret", fields.Get("clientSecret")),
		chromedp.SendKeys("#f-url", fields.Get("url")),
		chromedp.Click("#btn-save"),
		chromedp.WaitVisible("#saved.yes"),
	)
	if err != nil {
		t.Fatalf("save and test: %v", err)
	}
	checks, err = allChecks(ctx)
	if err != nil || len(checks) < 6 {
		t.Fatalf("checklist %v (%v)", checks, err)
	}
	for _, c := range checks {
		if !strings.HasSuffix(c, "=pass") {
			t.Errorf("save and test: check %s, want pass", c)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "sim.json")); err != nil {
		t.Fatalf("the connector was not saved: %v", err)
	}
	if v, _ := chromedp.Run(ctx, chromedp.Value("#f-secret")); v != "" {
		t.Error("the secret field still holds the secret after the save")
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	artifact(t, "console-pass.png", shot)

	// Break the secret: open the stored connector, type a wrong client secret, Test.
	err = chromedp.Do(ctx,
		chromedp.Navigate(tc.URL+"/?c=sim"),
		chromedp.WaitVisible("#secret-state"),
		chromedp.SendKeys("#f-secret", "not-the-secret"),
		chromedp.Click("#btn-test"),
		chromedp.WaitVisible(`li.check[data-check="token"][data-status="fail"]`),
	)
	if err != nil {
		t.Fatalf("test with a wrong secret: %v", err)
	}
	hint, _ := chromedp.Run(ctx, chromedp.Text(`li.check[data-check="token"] .hint`))
	if !strings.Contains(hint, "the client ID or client secret is wrong") {
		t.Errorf("token hint = %q", hint)
	}
	checks, _ = allChecks(ctx)
	for _, c := range checks {
		id, st, _ := strings.Cut(c, "=")
		want := map[string]string{"settings": "pass", "reach": "pass", "token": "fail"}[id]
		if want == "" {
			want = "skip"
		}
		if st != want {
			t.Errorf("check %s = %s, want %s", id, st, want)
		}
	}
	html, _ := chromedp.Run(ctx, chromedp.OuterHTML("html"))
	if strings.Contains(html, simSecret) || strings.Contains(html, "s1m-S3cret") {
		t.Error("the page holds the stored client secret")
	}
	shot, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	artifact(t, "console-token-fail.png", shot)
	updateDocs(t, "console.png", shot)
}

// TestBrowserServiceKeyToStatus is the new user's path, all in the browser against the
// simulator: paste the service key, "Save and test" (every check passes), "Collect now" (the
// run summary appears), then the status view shows a row with bars per collected monitor. The
// test writes no file itself: the console stores the connector, the checkpoints and the records.
func TestBrowserServiceKeyToStatus(t *testing.T) {
	ctx := browser(t)
	s := startSim(t, sim.Config{})
	dir := t.TempDir()
	store, err := state.NewFileStore(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	records := filepath.Join(dir, "out", "records.ndjson")
	tc := startConsole(t, Config{Connectors: Dir(filepath.Join(dir, "connectors")), State: store, StateName: "state",
		Records: records, OpenStore: func(context.Context) (collect.Store, error) { return store, nil }})

	err = chromedp.Do(ctx,
		chromedp.Navigate(tc.URL+"/"),
		chromedp.WaitVisible("#connector-form"),
		chromedp.SendKeys("#f-name", "sim"),
		setValue("#f-key", string(s.ServiceKeyJSON())),
		chromedp.Click("#btn-save"),
		chromedp.WaitVisible("#saved.yes"),
	)
	if err != nil {
		t.Fatalf("paste the service key, save and test: %v", err)
	}
	if v, _ := chromedp.Run(ctx, chromedp.Value("#f-key")); v != "" {
		t.Error("the service key box still holds the key (and its secret) after the save")
	}
	// The connector list follows the save without a reload: the new connector, marked current.
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`aside.list li.current a[href="/?c=sim"]`)); err != nil {
		t.Fatalf("the connector list after the save: %v", err)
	}
	if list, _ := chromedp.Run(ctx, chromedp.Text("aside.list")); strings.Contains(list, "No connector stored yet") {
		t.Errorf("the connector list still says there is none after the save:\n%s", list)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	artifact(t, "console-saved.png", shot)
	updateDocs(t, "console-saved.png", shot)
	checks, err := allChecks(ctx)
	if err != nil || len(checks) < 6 {
		t.Fatalf("checklist %v (%v)", checks, err)
	}
	for _, c := range checks {
		if !strings.HasSuffix(c, "=pass") {
			t.Errorf("save and test: check %s, want pass", c)
		}
	}

	err = chromedp.Do(ctx,
		chromedp.Click("#btn-collect"),
		chromedp.WaitVisible(`#run[data-state]`),
	)
	if err != nil {
		t.Fatalf("collect now: %v", err)
	}
	if st, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#run").dataset.state`)); st != "ok" {
		text, _ := chromedp.Run(ctx, chromedp.Text("#run"))
		t.Fatalf("collect now: state %q, want ok:\n%s", st, text)
	}
	// monitor=windows for every monitor of the summary.
	collected, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("#run tr[data-monitor]")).map(tr => tr.dataset.monitor + "=" + tr.children[1].textContent + "=" + tr.children[2].textContent)`))
	if err != nil || len(collected) < 3 {
		t.Fatalf("run summary rows %v (%v), want the monitors auto selects", collected, err)
	}
	shot, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	artifact(t, "console-collect.png", shot)
	updateDocs(t, "console-collect.png", shot)

	err = chromedp.Do(ctx,
		chromedp.Click("#run-status"),
		chromedp.WaitVisible(`table.monitors`),
	)
	if err != nil {
		t.Fatalf("open the status view: %v", err)
	}
	for _, c := range collected {
		var m string
		var windows, points int
		if _, err := fmt.Sscanf(strings.ReplaceAll(c, "=", " "), "%s %d %d", &m, &windows, &points); err != nil {
			t.Fatalf("summary row %q: %v", c, err)
		}
		// auto collects every monitor the token allows; some hold nothing in the hour (bsm,
		// some log providers), and status events chart their events' own times, not windows.
		if in, _ := monitor.Lookup(m); points == 0 || in.API == monitor.Events {
			if m == "hm" {
				t.Errorf("hm: collected no records")
			}
			continue
		}
		sel := fmt.Sprintf(`tr[data-tenant="sim"][data-monitor=%q]`, m)
		bars, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll('%s svg.chart rect').length`, sel)))
		if err != nil || bars == 0 || bars > windows {
			t.Errorf("%s: %d bars (%v), want one per window with records (%d windows collected)", m, bars, err, windows)
		}
		if m == "hm" && bars != windows {
			t.Errorf("hm: %d bars, want one per collected window (%d)", bars, windows)
		}
		row, _ := chromedp.Run(ctx, chromedp.Text(sel))
		if !strings.Contains(row, "up to ") || !strings.Contains(row, "none") {
			t.Errorf("%s row = %q, want the last window and no error", m, row)
		}
	}
	html, _ := chromedp.Run(ctx, chromedp.OuterHTML("html"))
	if strings.Contains(html, simSecret) || strings.Contains(html, "s1m-S3cret") {
		t.Error("the status page holds the client secret")
	}
	shot, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	artifact(t, "console-status-after-collect-now.png", shot)
}

// TestBrowserStatusAfterCollection runs a collection against the simulator into a state
// directory and a records file, then reads the status view in the browser.
func TestBrowserStatusAfterCollection(t *testing.T) {
	ctx := browser(t)
	s := startSim(t, sim.Config{})
	dir := t.TempDir()
	settings, _, err := calm.ParseSettings(s.ConnectorJSON())
	if err != nil {
		t.Fatal(err)
	}
	if err := Dir(filepath.Join(dir, "connectors")).saveForTest(settings); err != nil {
		t.Fatal(err)
	}
	store, err := state.NewFileStore(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	records := filepath.Join(dir, "out", "records.ndjson")
	fileSink, err := sink.OpenFile(records)
	if err != nil {
		t.Fatal(err)
	}
	client, err := calm.New(settings, calm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := collect.DefaultConfig()
	// Three metrics monitors drawn in full, and one of each other group the simulator serves.
	charted := []string{"hm", "jam", "exm"}
	cfg.Monitors = append(slices.Clone(charted), "cpi", "status", "logs")
	cfg.Lookback = 3 * time.Hour
	r := &collect.Runner{Config: cfg, Tenant: settings.Name, Client: client, Scopes: client.Tokens(), Store: store,
		Sinks: []collect.Sink{fileSink}, Owner: "console-e2e"}
	sum := r.Run(context.Background(), collect.Request{})
	if err := fileSink.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !sum.OK {
		t.Fatalf("collection failed: %+v", sum)
	}

	tc := startConsole(t, Config{Connectors: Dir(filepath.Join(dir, "connectors")), State: store, StateName: "state",
		Records: records})
	err = chromedp.Do(ctx,
		chromedp.Navigate(tc.URL+"/status"),
		chromedp.WaitVisible(`table.monitors`),
	)
	if err != nil {
		t.Fatalf("open the status view: %v", err)
	}
	for _, m := range charted {
		sel := fmt.Sprintf(`tr[data-tenant="sim"][data-monitor=%q]`, m)
		bars, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll('%s svg.chart rect').length`, sel)))
		if err != nil || bars < 30 {
			t.Errorf("%s: %d bars in the chart (%v), want one per collected window (36)", m, bars, err)
		}
		row, _ := chromedp.Run(ctx, chromedp.Text(sel))
		if !strings.Contains(row, "up to ") || !strings.Contains(row, "none") {
			t.Errorf("%s row = %q, want the last window and no error", m, row)
		}
		lag, _ := chromedp.Run(ctx, chromedp.Text(sel+" .lag"))
		if lag == "" {
			t.Errorf("%s: no lag shown", m)
		}
		if title, _ := chromedp.Run(ctx, chromedp.Text(sel+" td:nth-child(2) strong")); title != placeOf(monitor.Builtin(), m).Title || title == m {
			t.Errorf("%s: title %q, want the monitor table's", m, title)
		}
	}
	groups, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("tr.group")).map(tr => tr.textContent.trim())`))
	if want := "Metrics,Integration Monitoring,Events,Logs"; err != nil || strings.Join(groups, ",") != want {
		t.Errorf("group headings %v (%v), want %s", groups, err, want)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	artifact(t, "console-status.png", shot)
	updateDocs(t, "console-status.png", shot)
}

// saveForTest stores settings as the console would.
func (d *DirConnectors) saveForTest(s calm.Settings) error {
	src, _, err := d.Create(s.Name)
	if err != nil {
		return err
	}
	data, err := s.MarshalConnector()
	if err != nil {
		return err
	}
	return src.Save(context.Background(), data)
}
