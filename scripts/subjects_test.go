// Package scripts holds the tests of the shell scripts that make runs; the scripts themselves are
// the files beside this one.
package scripts

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitRepo makes a repository in a temporary directory with one commit per subject, in order, and
// returns its directory and the hash of the first commit.
func gitRepo(t *testing.T, subjects ...string) (dir, first string) {
	t.Helper()
	dir = t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	for i, s := range subjects {
		git("commit", "-q", "--allow-empty", "-m", s, "-m", "the body may be as long as it likes")
		if i == 0 {
			first = git("rev-parse", "HEAD")
		}
	}
	return dir, first
}

// checkSubjects runs check-subjects.sh in dir with base; it returns the output and exit code.
func checkSubjects(t *testing.T, dir, base string) (string, int) {
	t.Helper()
	script, err := filepath.Abs("check-subjects.sh")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(script, base)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", script, err)
	}
	return string(out), code
}

func TestCheckSubjectsAcceptsUpTo72Characters(t *testing.T) {
	long := strings.Repeat("x", 300)
	exact := "Add " + strings.Repeat("a", 68)   // 72 characters
	wide := "Fix … " + strings.Repeat("é", 66)  // 72 characters, more than 72 bytes
	dir, first := gitRepo(t, long, exact, wide) // the base's own subject and older ones are not checked
	out, code := checkSubjects(t, dir, first)
	if code != 0 {
		t.Fatalf("exit %d for subjects of 72 characters:\n%s", code, out)
	}
}

func TestCheckSubjectsRejectsALongerSubject(t *testing.T) {
	tooLong := "Add " + strings.Repeat("b", 69) // 73 characters
	dir, first := gitRepo(t, "Start", "Add a short one", tooLong, "Fix another")
	out, code := checkSubjects(t, dir, first)
	if code != 1 {
		t.Fatalf("exit %d, want 1, for a subject of 73 characters:\n%s", code, out)
	}
	if !strings.Contains(out, "subject of 73 characters") || !strings.Contains(out, tooLong) ||
		strings.Contains(out, "Add a short one") {
		t.Errorf("the output should name the one long subject and its length:\n%s", out)
	}
}

func TestCheckSubjectsWithoutTheBaseSaysSo(t *testing.T) {
	dir, _ := gitRepo(t, "Start", "Add "+strings.Repeat("c", 80))
	out, code := checkSubjects(t, dir, "0123456789abcdef0123456789abcdef01234567")
	if code != 0 || !strings.Contains(out, "not in this clone") {
		t.Fatalf("exit %d, want 0 and a note that the base is missing:\n%s", code, out)
	}
}
