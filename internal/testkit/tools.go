package testkit

import (
	"os"
	"os/exec"
	"testing"
)

// CI reports whether the tests run as CI runs them (CI=true): there, a missing tool is a
// failure, never a silent skip.
func CI() bool { return os.Getenv("CI") == "true" }

// Missing reports a tool or device the test needs but cannot find: under CI=true the test fails,
// elsewhere it is skipped. Either way it ends the test.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if CI() {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// LookPath returns the path of the first of names found on PATH; when none is, it ends the test
// through [Missing] with install, the hint saying how to install the tool.
func LookPath(t testing.TB, install string, names ...string) string {
	t.Helper()
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	Missing(t, "%s is not installed (%s); the test cannot run", names[0], install)
	return ""
}
