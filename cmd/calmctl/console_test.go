package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/calm-collector/calm-collector/internal/state"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

func TestRunConsoleUsageErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"non-loopback":   {[]string{"--addr", "0.0.0.0:8070"}, "is not a loopback address"},
		"all interfaces": {[]string{"--addr", ":8070"}, "--force-listen"},
		"no port":        {[]string{"--addr", "127.0.0.1"}, "want HOST:PORT"},
		"bad monitors":   {[]string{"--addr", "127.0.0.1:0", "--monitors", "hm,nope"}, "unknown monitor nope"},
		"bad url":        {[]string{"--addr", "127.0.0.1:0", "--function-url", "ftp://x"}, "is not a URL"},
		"argument":       {[]string{"extra"}, "unexpected arguments"},
	} {
		t.Run(name, func(t *testing.T) {
			var out, errb strings.Builder
			t.Setenv("AWS_REGION", "us-east-1")
			t.Setenv("AWS_ACCESS_KEY_ID", "test")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
			code := runConsole(context.Background(), tc.args, &out, &errb)
			if code != 2 || !strings.Contains(errb.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errb.String(), tc.want)
			}
		})
	}
}

// startConsole runs `calmctl console` with args until the test ends and returns its URL.
func startConsole(t *testing.T, args ...string) (string, *testkit.SyncBuffer, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb testkit.SyncBuffer
	done, stopped := make(chan int, 1), make(chan struct{})
	go func() {
		done <- runConsole(ctx, append([]string{"--addr", "127.0.0.1:0"}, args...), &out, &errb)
		close(stopped)
	}()
	var once sync.Once
	code := 0
	stop := func() int { once.Do(func() { cancel(); code = <-done }); return code }
	text, _ := out.Await(stopped, "(Ctrl-C to stop)") // the line that names the URL, written at once
	url := regexp.MustCompile(`http://127\.0\.0\.1:\d+/`).FindString(text)
	if url == "" {
		stop()
		t.Fatalf("console did not come up: %q %q", out.String(), errb.String())
	}
	t.Cleanup(func() { stop() })
	return url, &errb, stop
}

func TestRunConsoleServesUntilCancelled(t *testing.T) {
	dir := t.TempDir()
	url, errb, stop := startConsole(t, "--connectors-dir", filepath.Join(dir, "c"),
		"--state", filepath.Join(dir, "state"), "--records", filepath.Join(dir, "r.ndjson"))
	for _, path := range []string{"", "status"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "calm-collector") {
			t.Errorf("GET /%s = %d", path, resp.StatusCode)
		}
	}
	if code := stop(); code != 0 {
		t.Errorf("exit %d: %s", code, errb.String())
	}
	// The console only looks: a missing state directory is not created.
	if _, err := os.Stat(filepath.Join(dir, "state")); !os.IsNotExist(err) {
		t.Errorf("the status view created the state directory (stat: %v)", err)
	}
}

// "Collect now" in the console calmctl builds: the connector of --secret-file, the monitors of
// --monitors, checkpoints into --state (created now) and records appended to --records, under
// a lease naming the console.
func TestRunConsoleCollectNow(t *testing.T) {
	_, secret := startSim(t)
	dir := t.TempDir()
	stateDir, records := filepath.Join(dir, "state"), filepath.Join(dir, "out", "records.ndjson")
	base, errb, _ := startConsole(t, "--secret-file", secret, "--state", stateDir, "--records", records, "--monitors", "hm,jam")

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	resp, err := client.Get(base + "?c=secret")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil || !strings.Contains(string(page), `id="btn-collect"`) {
		t.Fatalf("no Collect now on the connector page:\n%s", page)
	}
	form := url.Values{"csrf": {string(m[1])}, "connector": {"secret"}}
	req, _ := http.NewRequest(http.MethodPost, base+"collect", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Console-Fragment", "1")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `data-state="ok"`) {
		t.Fatalf("POST /collect = %d:\n%s\nstderr: %s", resp.StatusCode, body, errb.String())
	}
	store, err := state.NewFileStore(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	cps, err := store.List(context.Background(), "sim")
	if err != nil || len(cps) != 2 || cps[0].Monitor != "hm" || cps[1].Monitor != "jam" {
		t.Errorf("checkpoints %+v (%v), want hm and jam", cps, err)
	}
	data, err := os.ReadFile(records)
	if err != nil || !strings.Contains(string(data), `"monitor":"hm"`) || !strings.Contains(string(data), `"monitor":"jam"`) {
		t.Errorf("records file (%v): %d bytes without hm and jam", err, len(data))
	}
	if !strings.Contains(errb.String(), "collect now") || strings.Contains(errb.String(), "sim-client-secret") {
		t.Errorf("stderr %q: want the run logged, without the secret", errb.String())
	}
}
