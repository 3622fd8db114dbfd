package console

import (
	"bufio"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/state"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

// collectSetup is a console with a stored simulator connector, a state directory and a records
// file, on a frozen clock shared with the simulator.
type collectSetup struct {
	*testConsole
	sim     *sim.Server
	store   *state.FileStore
	records string
	logs    *testkit.SyncBuffer
	now     time.Time
}

func newCollectSetup(t *testing.T, monitors []string) *collectSetup {
	t.Helper()
	now := time.Date(2026, 11, 25, 12, 2, 30, 0, time.UTC)
	clock := func() time.Time { return now }
	s := startSim(t, sim.Config{Now: clock})
	dir := t.TempDir()
	settings, _, err := calm.ParseSettings(s.ConnectorJSON())
	if err != nil {
		t.Fatal(err)
	}
	conns := Dir(filepath.Join(dir, "connectors"))
	if err := conns.saveForTest(settings); err != nil {
		t.Fatal(err)
	}
	store, err := state.NewFileStore(filepath.Join(dir, "state"), state.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	logs := &testkit.SyncBuffer{}
	records := filepath.Join(dir, "out", "records.ndjson")
	tc := startConsole(t, Config{Connectors: conns, State: store, StateName: "state", Records: records, Monitors: monitors,
		OpenStore: func(context.Context) (collect.Store, error) { return store, nil },
		Now:       clock, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	return &collectSetup{testConsole: tc, sim: s, store: store, records: records, logs: logs, now: now}
}

// readRecords decodes the records file.
func readRecords(t *testing.T, path string) []record.Record {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []record.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		r, err := record.Decode(sc.Bytes())
		if err != nil {
			t.Fatalf("records file line %d: %v", len(out)+1, err)
		}
		out = append(out, r)
	}
	return out
}

func TestCollectNowNeedsTheCSRFToken(t *testing.T) {
	cs := newCollectSetup(t, nil)
	cs.token(t) // the session cookie, but no token in the form
	resp, body := cs.post(t, "/collect", url.Values{"connector": {"sim"}}, true)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "anti-CSRF token") {
		t.Errorf("POST /collect without the token = %d %q, want 403", resp.StatusCode, body)
	}
	if recs := readRecords(t, cs.records); len(recs) != 0 {
		t.Errorf("a refused request wrote %d records", len(recs))
	}
	if cps, err := cs.store.List(context.Background(), "sim"); err != nil || len(cps) != 0 {
		t.Errorf("a refused request wrote checkpoints %v (%v)", cps, err)
	}
}

// "Collect now" runs one scheduled collection like calmctl collect: "auto" picks the monitors
// the token grants, the checkpoints and the records land in the console's state and file, the
// summary is rendered, and the status view then shows the data.
func TestCollectNowCollectsIntoStateAndRecords(t *testing.T) {
	cs := newCollectSetup(t, nil)
	tok := cs.token(t)
	resp, body := cs.post(t, "/collect", url.Values{"csrf": {tok}, "connector": {"sim"}}, true)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /collect = %d\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `data-state="ok"`) || !strings.Contains(body, "Collection of sim:") {
		t.Fatalf("the run did not pass:\n%s", body)
	}

	// Checkpoints: every auto-selected monitor is at floor(now − lag) = 12:00.
	cps, err := cs.store.List(context.Background(), "sim")
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	got := map[string]state.Checkpoint{}
	for _, cp := range cps {
		got[cp.Monitor] = cp
	}
	for _, m := range []string{"hm", "jam", "exm"} {
		cp, ok := got[m]
		if !ok {
			t.Errorf("no checkpoint for %s (have %v)", m, cps)
			continue
		}
		if !cp.Next.Equal(want) || cp.LastError != "" || cp.LastWindows != 12 {
			t.Errorf("%s checkpoint = next %s, %d windows, error %q; want next %s, 12 windows, no error", m, cp.Next, cp.LastWindows, cp.LastError, want)
		}
	}

	// Records: appended to the console's file, as many per monitor as the summary and the
	// checkpoint say.
	perMonitor := map[string]int{}
	for _, r := range readRecords(t, cs.records) {
		if r.Tenant() != "sim" {
			t.Fatalf("a record of tenant %q", r.Tenant())
		}
		perMonitor[r.Monitor()]++
	}
	rowRE := regexp.MustCompile(`(?s)<tr data-monitor="([^"]+)" data-ok="true">\s*<td><strong>[^<]+</strong></td>\s*<td>(\d+)</td>\s*<td>(\d+)</td>\s*<td>(\d+)`)
	rows := rowRE.FindAllStringSubmatch(body, -1)
	if len(rows) != len(cps) {
		t.Errorf("summary has %d monitor rows, state %d checkpoints:\n%s", len(rows), len(cps), body)
	}
	for _, row := range rows {
		m := row[1]
		// windowed monitors: 12 windows of the hour; status events: one lookback window
		want := "12"
		if in, _ := monitor.Lookup(m); in.API == monitor.Events {
			want = "1"
		}
		if row[2] != want {
			t.Errorf("%s: %s windows in the summary, want %s", m, row[2], want)
		}
		if row[4] == "0" {
			t.Errorf("%s: no request counted in the summary", m)
		}
		if row[3] != strconv.Itoa(perMonitor[m]) || row[3] != strconv.Itoa(got[m].LastPoints) {
			t.Errorf("%s: summary says %s records, the file holds %d, the checkpoint %d", m, row[3], perMonitor[m], got[m].LastPoints)
		}
	}
	if perMonitor["hm"] == 0 || perMonitor["jam"] == 0 {
		t.Errorf("records per monitor %v: want hm and jam data", perMonitor)
	}

	// The status view reads what the run wrote.
	_, status := cs.get(t, "/status")
	hm := regexp.MustCompile(`(?s)<tr data-tenant="sim" data-monitor="hm"[^>]*>(.*?)</tr>`).FindStringSubmatch(status)
	if hm == nil {
		t.Fatalf("no hm row in the status view:\n%s", status)
	}
	if n := strings.Count(hm[1], "<rect "); n != 12 || !strings.Contains(hm[1], "up to 2026-11-25 12:00 UTC") {
		t.Errorf("hm status row has %d bars, want 12 and the checkpoint:\n%s", n, hm[1])
	}

	for i, b := range cs.bodies {
		if strings.Contains(b, simSecret) || strings.Contains(b, "s1m-S3cret") {
			t.Errorf("response %d holds the client secret", i)
		}
	}
	if strings.Contains(cs.logs.String(), "s1m-S3cret") {
		t.Error("the log holds the client secret")
	}
	if !strings.Contains(cs.logs.String(), "collect now") {
		t.Errorf("the run is not logged:\n%s", cs.logs.String())
	}

	// A second run goes on from the checkpoints: nothing new at the same instant.
	before := len(readRecords(t, cs.records))
	_, body = cs.post(t, "/collect", url.Values{"csrf": {tok}, "connector": {"sim"}}, true)
	if !strings.Contains(body, `data-state="ok"`) {
		t.Fatalf("second run:\n%s", body)
	}
	if after := len(readRecords(t, cs.records)); after != before {
		t.Errorf("a second run at the same time added %d records", after-before)
	}
}

// The console's --monitors list is what "Collect now" collects.
func TestCollectNowTakesTheConsoleMonitors(t *testing.T) {
	cs := newCollectSetup(t, []string{"hm"})
	tok := cs.token(t)
	_, body := cs.post(t, "/collect", url.Values{"csrf": {tok}, "connector": {"sim"}}, true)
	if !strings.Contains(body, `data-state="ok"`) {
		t.Fatalf("run:\n%s", body)
	}
	cps, err := cs.store.List(context.Background(), "sim")
	if err != nil || len(cps) != 1 || cps[0].Monitor != "hm" {
		t.Errorf("checkpoints %v (%v), want hm only", cps, err)
	}
}

// Another run holding the tenant's lease is shown as such: no error page, nothing written.
func TestCollectNowShowsAHeldLease(t *testing.T) {
	cs := newCollectSetup(t, nil)
	if _, err := cs.store.Acquire(context.Background(), "sim", "calmctl someone@host pid 42", time.Hour); err != nil {
		t.Fatal(err)
	}
	tok := cs.token(t)
	resp, body := cs.post(t, "/collect", url.Values{"csrf": {tok}, "connector": {"sim"}}, true)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `data-state="held"`) || !strings.Contains(body, "not started") {
		t.Fatalf("POST /collect with a held lease = %d:\n%s", resp.StatusCode, body)
	}
	if !regexp.MustCompile(`id="run-held">[^<]*tenant (&#34;|")sim(&#34;|") is being collected by calmctl someone@host pid 42 until`).MatchString(body) {
		t.Errorf("the holder is not named:\n%s", body)
	}
	if strings.Contains(body, `id="run-error"`) {
		t.Errorf("a held lease shown as an error:\n%s", body)
	}
	if recs := readRecords(t, cs.records); len(recs) != 0 {
		t.Errorf("a skipped run wrote %d records", len(recs))
	}
}

// Without the page's script the form post answers the whole page, the summary under the
// connector; an unknown connector is named.
func TestCollectNowPlainFormPost(t *testing.T) {
	cs := newCollectSetup(t, []string{"hm"})
	tok := cs.token(t)
	resp, body := cs.post(t, "/collect", url.Values{"csrf": {tok}, "connector": {"sim"}}, false)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /collect = %d", resp.StatusCode)
	}
	for _, want := range []string{"<!doctype html>", "Connector sim", `id="btn-collect"`, `data-state="ok"`, `<tr data-monitor="hm" data-ok="true">`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	_, body = cs.post(t, "/collect", url.Values{"csrf": {tok}, "connector": {"nope"}}, true)
	if !strings.Contains(body, `data-state="error"`) || !strings.Contains(body, "no connector &#34;nope&#34; is stored") {
		t.Errorf("an unknown connector:\n%s", body)
	}
}

// The button: on a stored connector's page, and in the answer to a "Save and test" that stored
// a new connector; not without a state store.
func TestCollectNowButton(t *testing.T) {
	cs := newCollectSetup(t, nil)
	if _, body := cs.get(t, "/?c=sim"); !strings.Contains(body, `id="btn-collect"`) || !strings.Contains(body, `action="/collect"`) {
		t.Errorf("no Collect now on the connector's page:\n%s", body)
	}
	if _, body := cs.get(t, "/"); strings.Contains(body, `id="btn-collect"`) {
		t.Error("Collect now on the new-connector form")
	}

	s := startSim(t, sim.Config{})
	tc := startConsole(t, Config{Connectors: Dir(t.TempDir()), Records: filepath.Join(t.TempDir(), "r.ndjson"),
		OpenStore: func(context.Context) (collect.Store, error) { return state.NewFileStore(t.TempDir()) }})
	f := fieldsOf(t, s)
	f.Set("name", "fresh")
	f.Set("csrf", tc.token(t))
	_, body := tc.post(t, "/save", f, true)
	if !strings.Contains(body, `id="saved"`) || !strings.Contains(body, `id="btn-collect"`) ||
		!strings.Contains(body, `name="connector" value="fresh"`) || !strings.Contains(body, `name="csrf" value="`+f.Get("csrf")+`"`) {
		t.Errorf("no Collect now after saving a new connector:\n%s", body)
	}

	dir := t.TempDir()
	noState := startConsole(t, Config{Connectors: Dir(dir), Records: "r.ndjson"})
	if err := os.WriteFile(filepath.Join(dir, "x.json"), s.ConnectorJSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, body := noState.get(t, "/?c=x"); strings.Contains(body, `id="btn-collect"`) {
		t.Error("Collect now without a state store")
	}
	_, body = noState.post(t, "/collect", url.Values{"csrf": {noState.token(t)}, "connector": {"x"}}, true)
	if !strings.Contains(body, "needs a state store and a records file") {
		t.Errorf("collect without a state store:\n%s", body)
	}
}

// docs/console.md: the file `calmctl sim --write-secret` writes (connector settings) can be
// pasted into the service key box as it is, then collected.
func TestPasteTheSimulatorSecretFileThenCollect(t *testing.T) {
	cs := newCollectSetup(t, []string{"hm"})
	dir := t.TempDir()
	tc := startConsole(t, Config{Connectors: Dir(dir), Records: cs.records, Now: func() time.Time { return cs.now },
		OpenStore: func(context.Context) (collect.Store, error) { return cs.store, nil }})
	tok := tc.token(t)
	_, body := tc.post(t, "/save", url.Values{"csrf": {tok}, "serviceKey": {string(cs.sim.ConnectorJSON())}}, true)
	if !strings.Contains(body, `class="saved yes"`) || !strings.Contains(body, `id="btn-collect"`) {
		t.Fatalf("save the pasted connector file:\n%s", body)
	}
	_, body = tc.post(t, "/collect", url.Values{"csrf": {tok}, "connector": {"sim"}}, true)
	if !strings.Contains(body, `data-state="ok"`) || !strings.Contains(body, `<tr data-monitor="hm" data-ok="true">`) {
		t.Errorf("collect the pasted connector:\n%s", body)
	}
}
