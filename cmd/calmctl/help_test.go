package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/calm-collector/calm-collector/internal/awstest"
	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/sim"
)

// helpOf runs `calmctl args... --help` and checks the conventions: the help on stdout, nothing on
// stderr, exit 0. It returns the help.
func helpOf(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := runContext(context.Background(), append(args, "--help"), &stdout, &stderr)
	if code != 0 || stdout.Len() == 0 || stderr.Len() != 0 {
		t.Errorf("calmctl %s --help: exit %d, %d bytes on stdout, stderr %q; want exit 0 and the help on stdout only",
			strings.Join(args, " "), code, stdout.Len(), stderr.String())
	}
	return stdout.String()
}

// examplesOf returns the lines of the help's "examples:" section.
func examplesOf(help string) []string {
	_, section, ok := strings.Cut(help, "\nexamples:\n")
	if !ok {
		return nil
	}
	var out []string
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "  calmctl ") {
			break
		}
		out = append(out, strings.TrimSpace(line))
	}
	return out
}

// TestHelpGoesToStdout: calmctl -h, every command's -h and every connector verb's -h print to
// stdout and exit 0; calmctl without a command prints the usage to stderr and exits 2.
func TestHelpGoesToStdout(t *testing.T) {
	top := helpOf(t)
	for _, c := range commands {
		if !strings.Contains(top, "  "+c.name+" ") {
			t.Errorf("calmctl --help does not list %s:\n%s", c.name, top)
		}
		if help := helpOf(t, c.name); !strings.Contains(help, "usage") {
			t.Errorf("calmctl %s --help has no usage:\n%s", c.name, help)
		}
	}
	for _, verb := range []string{"add", "list", "remove"} {
		helpOf(t, "connector", verb)
	}
	var stdout, stderr bytes.Buffer
	if code := runContext(context.Background(), nil, &stdout, &stderr); code != 2 || stdout.Len() != 0 || !strings.Contains(stderr.String(), "usage") {
		t.Errorf("calmctl without a command: exit %d, stdout %q; want 2 and the usage on stderr", code, stdout.String())
	}
}

// TestHelpExamplesRun runs every example of every --help, as written, in a directory holding
// key.json (a simulator's service key) and connectors/, with moto standing in for AWS (a stack
// named calm exists). Each must exit 0; the simulator and the console run until they have
// printed their start line.
func TestHelpExamplesRun(t *testing.T) {
	motoEnv(t).CreateStack(t, "calm")
	srv := sim.StartTest(t, sim.Config{})
	t.Chdir(t.TempDir())
	if err := os.WriteFile("key.json", srv.ServiceKeyJSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll("connectors", 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("connectors", "sim.json"), srv.ConnectorJSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	var examples [][]string
	for _, help := range []string{helpOf(t), helpOf(t, "sim"), helpOf(t, "test"), helpOf(t, "collect"), helpOf(t, "console"), helpOf(t, "connector")} {
		for _, e := range examplesOf(help) {
			examples = append(examples, strings.Fields(e)[1:])
		}
	}
	if len(examples) < 12 {
		t.Fatalf("found %d examples in the helps, want every command's", len(examples))
	}
	for _, args := range examples {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			stdout, stderr, code := runExample(t, args)
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			checkExampleOutput(t, args, stdout)
		})
	}
}

// runExample runs calmctl args; sim and console end once they have printed their first line.
func runExample(t *testing.T, args []string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &lockedBuffer{}
	if args[0] == "sim" || args[0] == "console" {
		out.onLine = cancel
	}
	var errb bytes.Buffer
	code = runContext(ctx, args, out, &errb)
	return out.String(), errb.String(), code
}

// checkExampleOutput checks what the JSON examples and --version print.
func checkExampleOutput(t *testing.T, args []string, stdout string) {
	t.Helper()
	joined := strings.Join(args, " ")
	switch {
	case joined == "--version":
		if !strings.HasPrefix(stdout, "calmctl ") {
			t.Errorf("--version printed %q", stdout)
		}
	case args[0] == "collect" && strings.Contains(joined, "--json"):
		var sum collect.Summary
		if err := json.Unmarshal([]byte(stdout), &sum); err != nil || !sum.OK || len(sum.Monitors) == 0 {
			t.Errorf("collect --json printed no ok summary (%v):\n%s", err, stdout)
		}
	case args[0] == "sim" && strings.Contains(joined, "--json"):
		var st simStart
		if err := json.Unmarshal([]byte(stdout), &st); err != nil || !strings.HasPrefix(st.URL, "http://127.0.0.1:") {
			t.Errorf("sim --json printed %q (%v)", stdout, err)
		}
	case joined == "connector list --stack calm --json":
		var cs []connectorJSON
		if err := json.Unmarshal([]byte(stdout), &cs); err != nil || len(cs) != 1 || cs[0].Name != "prod-eu10" {
			t.Errorf("connector list --json printed %q (%v); want prod-eu10 added by the example before", stdout, err)
		}
	}
}

// lockedBuffer is a goroutine-safe stdout that calls onLine once, at the first complete line.
type lockedBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	onLine func()
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if b.onLine != nil && bytes.IndexByte(b.buf.Bytes(), '\n') >= 0 {
		b.onLine()
		b.onLine = nil
	}
	return n, err
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestVersionFromLdflags: a release build's -X stamp is what calmctl --version prints.
func TestVersionFromLdflags(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "calmctl")
	build := exec.Command(awstest.GoTool(), "build", "-o", bin,
		"-ldflags=-X github.com/calm-collector/calm-collector/internal/version.stamped=v9.8.7", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil || string(out) != "calmctl v9.8.7\n" {
		t.Errorf("calmctl --version = %q, %v; want \"calmctl v9.8.7\\n\"", out, err)
	}
}
