package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/sim"
)

func TestMemoryBudgetOnlyWithoutGOMEMLIMIT(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "GOMEMLIMIT" {
				return v
			}
			return ""
		}
	}
	for _, c := range []string{"collect", "test", "console", "sim"} {
		if got, ok := memoryBudget(c, env("")); !ok || got != 512<<20 {
			t.Errorf("%s without GOMEMLIMIT: %d %v, want 512 MiB", c, got, ok)
		}
		if _, ok := memoryBudget(c, env("off")); ok {
			t.Errorf("%s with GOMEMLIMIT=off applies a budget", c)
		}
	}
	if _, ok := memoryBudget("connector", env("")); ok {
		t.Error("connector (no Cloud ALM answers) applies a budget")
	}
}

// TestCollectGiantPagesFailLoudlyUnderTheDefaultBudget: without GOMEMLIMIT, calmctl collect
// (through run, as the command line starts it) caps each answer under its default budget, so a
// tenant answering 30 MB pages on every monitor fails those windows with the cap named instead
// of holding 4 × 30 MB.
func TestCollectGiantPagesFailLoudlyUnderTheDefaultBudget(t *testing.T) {
	if os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOMEMLIMIT is set: the default budget does not apply")
	}
	old := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(old)
	s := sim.New(sim.Config{})
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/calm-metrics/") {
			s.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"resourceMetrics":[`))
		pad := []byte(strings.Repeat(" ", 64<<10))
		for n := 0; n < 30<<20; n += len(pad) {
			if _, err := w.Write(pad); err != nil {
				return // the client gave up, as it should
			}
		}
		w.Write([]byte(`]}`))
	}))
	defer front.Close()
	secret := filepath.Join(t.TempDir(), "secret.json")
	doc, _ := json.Marshal(map[string]string{"name": "sim", "authenticationServer": front.URL, "url": front.URL,
		"clientId": sim.DefaultClientID, "clientSecret": sim.DefaultClientSecret})
	if err := os.WriteFile(secret, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run([]string{"collect", "--secret-file", secret, "--state", filepath.Join(dir, "state"),
		"--out", filepath.Join(dir, "out.ndjson"), "--monitors", "hm,jam,exm,rum"}, &stdout, &stderr)
	if code == 0 {
		t.Fatalf("exit 0 with 30 MB pages\n%s", stderr.String())
	}
	if got := debug.SetMemoryLimit(-1); got != defaultMemoryBudget {
		t.Errorf("memory limit %d after calmctl collect, want the default %d", got, defaultMemoryBudget)
	}
	capText := fmt.Sprintf("answer is larger than %d bytes", calm.AnswerCap(defaultMemoryBudget/2, collect.DefaultConfig().Concurrency))
	if n := strings.Count(stdout.String()+stderr.String(), capText); n < 4 {
		t.Errorf("%q named %d times, want every monitor's failure to name it\nstdout %s\nstderr %s", capText, n, stdout.String(), stderr.String())
	}
}
