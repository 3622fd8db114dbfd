package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// CI reports whether the tests run as CI runs them (CI=true): there, a missing tool is a
// failure, never a silent skip.
func CI() bool { return os.Getenv("CI") == "true" }

// Tool is a program or device a test needs, and the command that installs it.
type Tool struct {
	Name, Install string
}

// The tools the tests need beyond Go (the README's set-up says how to get each on Debian and
// macOS).
var (
	MotoServer = Tool{"moto_server", "pip install 'moto[server]==5.2.*' (Debian: pipx install 'moto[server]'; macOS: brew install pipx && pipx install 'moto[server]')"}
	CfnLint    = Tool{"cfn-lint", "pip install cfn-lint (Debian: pipx install cfn-lint; macOS: brew install cfn-lint)"}
	Chromium   = Tool{"chromium", "Debian: apt-get install -y chromium; macOS: brew install --cask chromium"}
	RIE        = Tool{"aws-lambda-rie", "make tools (or set CALM_RIE to its path)"}
	DevFull    = Tool{"/dev/full", "a Linux machine (the device is Linux's)"}
)

// SkipsEnv names the file a test run notes its skips in: `make test` sets it, then
// scripts/test-skips.sh names every missing tool and the tests it skipped. One line per skip,
// tab-separated: tool, install command, package directory, test.
const SkipsEnv = "CALM_TEST_SKIPS"

// Missing reports a tool the test needs but cannot find: under CI=true the test fails,
// elsewhere it is skipped and the skip is noted in $CALM_TEST_SKIPS. Either way it ends the test.
func Missing(t testing.TB, tool Tool, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...) + fmt.Sprintf(" (%s is missing; install: %s)", tool.Name, tool.Install)
	if CI() {
		t.Fatalf("%s", msg)
		return
	}
	note(t, tool, "")
	t.Skipf("%s", msg)
}

// LeftOut reports a tool that a part of the test needs: under CI=true the test fails; elsewhere
// the test goes on without that part, which is logged and noted in $CALM_TEST_SKIPS.
func LeftOut(t testing.TB, tool Tool, part string) {
	t.Helper()
	if CI() {
		t.Fatalf("%s is missing, and %s needs it (install: %s)", tool.Name, part, tool.Install)
		return
	}
	note(t, tool, part)
	t.Logf("%s is missing: %s is left out (install: %s)", tool.Name, part, tool.Install)
}

// LookPath returns the path of the first of names found on PATH (or the first name, when it
// is a path); when none is, it ends the test through [Missing].
func LookPath(t testing.TB, tool Tool, names ...string) string {
	t.Helper()
	if len(names) == 0 {
		names = []string{tool.Name}
	}
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	Missing(t, tool, "%s is not installed; the test cannot run", strings.Join(names, " or "))
	return ""
}

// note appends the skip to $CALM_TEST_SKIPS, when set. A test cannot fail for its note: a note
// that cannot be written is logged.
func note(t testing.TB, tool Tool, part string) {
	t.Helper()
	path := os.Getenv(SkipsEnv)
	if path == "" {
		return
	}
	dir, _ := os.Getwd()
	name := t.Name()
	if part != "" {
		name += " (" + part + ")"
	}
	line := strings.Join([]string{tool.Name, tool.Install, dir, name}, "\t") + "\n"
	// One short O_APPEND write per line: test binaries running side by side do not interleave.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644) //nolint:gosec // G302: a list of skipped tests, no secret
	if err == nil {
		_, err = f.WriteString(line)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		t.Logf("testkit: cannot note the skip in %s=%s: %v", SkipsEnv, path, err)
	}
}
