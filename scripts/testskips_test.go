package scripts

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runScript runs a script of this directory with env added to the environment; it returns the
// combined output and the exit code.
func runScript(t *testing.T, env []string, name string, args ...string) (string, int) {
	t.Helper()
	script, err := filepath.Abs(name)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(script, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	case err != nil:
		t.Fatalf("run %s: %v", name, err)
	}
	return string(out), 0
}

// pathWithout is $PATH without the directories that hold tool.
func pathWithout(tool string) string {
	var keep []string
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(dir, tool)); err != nil {
			keep = append(keep, dir)
		}
	}
	return strings.Join(keep, string(filepath.ListSeparator))
}

// TestMakeTestNamesAHiddenTool is make test's ending with moto_server hidden from PATH, on one
// package instead of the whole suite: a test that needs moto is skipped and notes it through
// internal/testkit, and the summary names the tool, the test and the install command, and
// fails; with CALM_ALLOW_MISSING_TOOLS=1 it passes and still names them.
func TestMakeTestNamesAHiddenTool(t *testing.T) {
	skips := filepath.Join(t.TempDir(), "test-skips.tsv")
	gotest := exec.Command("go", "test", "-count=1", "-run", "^TestMotoDiesWithTestBinary$", "../internal/awstest")
	gotest.Env = append(os.Environ(), "PATH="+pathWithout("moto_server"), "CI=", "CALM_TEST_SKIPS="+skips)
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("go is not on PATH: %v", err)
	}
	if out, err := gotest.CombinedOutput(); err != nil {
		t.Fatalf("go test with moto_server hidden: %v\n%s", err, out)
	}
	out, code := runScript(t, nil, "test-skips.sh", skips)
	for _, want := range []string{"moto_server is missing: 1 test(s) skipped", "install: pip install 'moto[server]",
		"./internal/awstest  TestMotoDiesWithTestBinary", "make test FAILED: missing moto_server"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if code != 1 {
		t.Errorf("summary exit %d, want 1", code)
	}
	out, code = runScript(t, []string{"CALM_ALLOW_MISSING_TOOLS=1"}, "test-skips.sh", skips)
	if code != 0 || !strings.Contains(out, "./internal/awstest  TestMotoDiesWithTestBinary") || !strings.Contains(out, "missing: moto_server") {
		t.Errorf("with CALM_ALLOW_MISSING_TOOLS=1: exit %d, want 0 and moto_server named:\n%s", code, out)
	}
}

// TestTestSkipsGroupsByTool: a crafted skip file of two tools, one test noted twice (two
// packages' runs may note the same skip): each tool once with its install command and its tests.
func TestTestSkipsGroupsByTool(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	lines := []string{
		"cfn-lint\tpip install cfn-lint\t" + root + "/infra/cdk\tTestCfnLint",
		"chromium\tapt-get install -y chromium\t" + root + "/internal/console\tTestConsoleE2E",
		"cfn-lint\tpip install cfn-lint\t" + root + "/infra/cdk\tTestScale (the cfn-lint check)",
		"cfn-lint\tpip install cfn-lint\t" + root + "/infra/cdk\tTestCfnLint",
	}
	skips := filepath.Join(t.TempDir(), "skips.tsv")
	if err := os.WriteFile(skips, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := runScript(t, nil, "test-skips.sh", skips)
	want := `cfn-lint is missing: 2 test(s) skipped
  install: pip install cfn-lint
    ./infra/cdk  TestCfnLint
    ./infra/cdk  TestScale (the cfn-lint check)
chromium is missing: 1 test(s) skipped
  install: apt-get install -y chromium
    ./internal/console  TestConsoleE2E
make test FAILED: missing cfn-lint, chromium;`
	if code != 1 || !strings.Contains(out, want) {
		t.Errorf("exit %d, output:\n%s\nwant exit 1 and:\n%s", code, out, want)
	}
	empty := filepath.Join(t.TempDir(), "none.tsv")
	if out, code := runScript(t, nil, "test-skips.sh", empty); code != 0 || out != "" {
		t.Errorf("no skip file: exit %d, output %q; want 0 and nothing", code, out)
	}
}
