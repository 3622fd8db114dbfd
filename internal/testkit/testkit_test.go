package testkit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// recorder is a testing.TB that notes how the test would have ended.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Fatalf(format string, a ...any) { r.fatal = fmt.Sprintf(format, a...) }
func (r *recorder) Skipf(format string, a ...any)  { r.skip = fmt.Sprintf(format, a...) }

var fakeTool = Tool{"calm-no-such-tool", "apt-get install calm-no-such-tool"}

func TestMissingFailsUnderCIAndSkipsElsewhere(t *testing.T) {
	// The fake tool's skip is this test's own: it must not reach make test's list of skips.
	t.Setenv(SkipsEnv, "")
	t.Setenv("CI", "true")
	r := &recorder{TB: t}
	Missing(r, fakeTool, "no %s", "tool")
	if !strings.HasPrefix(r.fatal, "no tool (calm-no-such-tool is missing; install: apt-get install calm-no-such-tool)") {
		t.Errorf("under CI=true: fatal %q, skip %q; want the test failed", r.fatal, r.skip)
	}
	t.Setenv("CI", "")
	r = &recorder{TB: t}
	Missing(r, fakeTool, "no %s", "tool")
	if !strings.HasPrefix(r.skip, "no tool (calm-no-such-tool is missing") || r.fatal != "" {
		t.Errorf("without CI: fatal %q, skip %q; want the test skipped", r.fatal, r.skip)
	}
	r = &recorder{TB: t}
	if p := LookPath(r, fakeTool); p != "" || r.skip == "" {
		t.Errorf("LookPath of a missing tool = %q, skip %q", p, r.skip)
	}
}

func TestMemSinkKeepsRefusesAndCallsAfter(t *testing.T) {
	s := &MemSink[int]{Fail: func(b int) bool { return b == 2 }}
	var after []int
	s.After = func(b int) { after = append(after, b) }
	for _, b := range []int{1, 2, 3} {
		err := s.Write(context.Background(), b)
		if (b == 2) != errors.Is(err, ErrSinkFull) {
			t.Errorf("Write(%d) = %v", b, err)
		}
	}
	if got := fmt.Sprint(s.Batches(), after); got != "[1 3] [1 3]" {
		t.Errorf("batches and after calls %s, want [1 3] [1 3]", got)
	}
}

func TestClockMovesOnlyWhenTold(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	c := NewClock(t0)
	c.Advance(time.Minute)
	if !c.Now().Equal(t0.Add(time.Minute)) {
		t.Errorf("after Advance: %v", c.Now())
	}
	c.Set(t0)
	if !c.Now().Equal(t0) {
		t.Errorf("after Set: %v", c.Now())
	}
}

func TestRedirectingFrontRedirectsOnlyThePath(t *testing.T) {
	front, hits := RedirectingFront(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}), "/oauth/token", http.StatusPermanentRedirect)
	for path, want := range map[string]int{"/oauth/token": http.StatusOK, "/api": http.StatusTeapot} {
		resp, err := http.Get(front.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("%d requests reached the trap, want 1 (the followed redirect)", n)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(front.URL + "/oauth/token")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusPermanentRedirect {
		t.Errorf("the path answered %d, want 308", resp.StatusCode)
	}
}

// TestSkipsAreNoted: outside CI, a skip and a part left out are noted in $CALM_TEST_SKIPS, one
// tab-separated line each (tool, install command, package directory, test), for make test's
// summary; under CI=true nothing is noted (the test fails instead).
func TestSkipsAreNoted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "skips.tsv")
	t.Setenv(SkipsEnv, path)
	t.Setenv("CI", "true")
	Missing(&recorder{TB: t}, fakeTool, "no tool")
	if _, err := os.Stat(path); err == nil {
		t.Fatal("a skip under CI=true was noted")
	}
	t.Setenv("CI", "")
	Missing(&recorder{TB: t}, fakeTool, "no tool")
	LeftOut(&recorder{TB: t}, CfnLint, "the lint part")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := os.Getwd()
	want := "calm-no-such-tool\tapt-get install calm-no-such-tool\t" + dir + "\t" + t.Name() + "\n" +
		"cfn-lint\t" + CfnLint.Install + "\t" + dir + "\t" + t.Name() + " (the lint part)\n"
	if string(b) != want {
		t.Errorf("noted:\n%q\nwant:\n%q", b, want)
	}
}

// Await returns once a write makes the text contain what it waits for, and gives up when the
// writer stops first.
func TestSyncBufferAwait(t *testing.T) {
	var b SyncBuffer
	go func() {
		fmt.Fprint(&b, "starting\n")
		fmt.Fprint(&b, "listening on x\n")
	}()
	if text, ok := b.Await(nil, "listening"); !ok || !strings.Contains(text, "listening on x") {
		t.Errorf("Await = %q, %v; want the text with the line waited for", text, ok)
	}
	stopped := make(chan struct{})
	close(stopped)
	if text, ok := b.Await(stopped, "never written"); ok {
		t.Errorf("Await after the writer stopped = %q, %v; want false", text, ok)
	}
}
