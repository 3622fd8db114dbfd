package awstest

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/testkit"
)

// InvocationsPath is where the RIE accepts invocations, as Lambda's Invoke API does.
const InvocationsPath = "/2015-03-31/functions/function/invocations"

// rieStartTimeout bounds how long StartRIE waits for the emulator to accept connections.
const rieStartTimeout = 10 * time.Second

// RIE returns the path of the Lambda Runtime Interface Emulator: $CALM_RIE, else
// <module root>/.bin/aws-lambda-rie, else aws-lambda-rie on PATH. When none exists the test fails if
// CI=true and is skipped otherwise.
func RIE(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("CALM_RIE"); p != "" {
		if isExecutable(p) {
			return p
		}
		testkit.Missing(t, testkit.RIE, "awstest: CALM_RIE=%q is not an executable file", p)
		return ""
	}
	if root, ok := moduleRoot(); ok {
		if p := filepath.Join(root, ".bin", "aws-lambda-rie"); isExecutable(p) {
			return p
		}
	}
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p
	}
	testkit.Missing(t, testkit.RIE, "awstest: the Lambda RIE (aws-lambda-rie) is not in $CALM_RIE, .bin/ or PATH")
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// StartRIE runs bootstrapPath under the RIE, both listening on 127.0.0.1 only, and returns the
// invocation URL. The bootstrap's environment is this process's environment without AWS_* and
// CALM_* variables, plus env ("KEY=value" entries, later ones win). The emulator and the bootstrap
// are killed when the test ends; their output is logged when the test failed.
func StartRIE(t testing.TB, bootstrapPath string, env []string) (invokeURL string) {
	t.Helper()
	rie := RIE(t)
	abs, err := filepath.Abs(bootstrapPath)
	if err != nil {
		t.Fatalf("awstest: bootstrap path %q: %v", bootstrapPath, err)
	}
	if !isExecutable(abs) {
		t.Fatalf("awstest: bootstrap %q is not an executable file (build it first)", abs)
	}
	port, err := FreePort()
	if err != nil {
		t.Fatalf("awstest: %v", err)
	}
	// The runtime API defaults to the fixed port 9001; a port of its own lets RIEs run side by side.
	apiPort, err := FreePort()
	if err != nil {
		t.Fatalf("awstest: %v", err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(apiPort),
		abs)
	cmd.Dir = filepath.Dir(abs)
	cmd.Env = append(lambdaEnv(os.Environ()), env...)
	out := &tailBuffer{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := startPinned(cmd); err != nil {
		t.Fatalf("awstest: start %s: %v", rie, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		if t.Failed() {
			t.Logf("awstest: RIE output:\n%s", out)
		}
	})

	deadline := time.Now().Add(rieStartTimeout)
	for delay := 10 * time.Millisecond; ; delay = min(delay*2, 200*time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return "http://" + addr + InvocationsPath
		}
		select {
		case <-exited:
			t.Fatalf("awstest: the RIE exited before listening on %s", addr)
		case <-time.After(delay):
		}
		if time.Now().After(deadline) {
			t.Fatalf("awstest: the RIE did not listen on %s within %s", addr, rieStartTimeout)
		}
	}
}

// lambdaEnv drops the variables that would make a bootstrap talk to real AWS or pick up the
// developer's collector settings.
func lambdaEnv(environ []string) []string {
	var keep []string
	for _, kv := range environ {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "CALM_") {
			continue
		}
		keep = append(keep, kv)
	}
	return keep
}

// Invoke posts payload to a function started by StartRIE and returns the response body. url is the
// value StartRIE returned (a bare http://host:port gets the invocations path appended). Any status
// other than 200 fails the test.
func Invoke(t testing.TB, url string, payload []byte) []byte {
	t.Helper()
	if !strings.HasSuffix(url, InvocationsPath) {
		url = strings.TrimSuffix(url, "/") + InvocationsPath
	}
	resp, err := http.Post(url, "application/json", bytes.NewReader(payload))
	if err != nil {
		t.Fatalf("awstest: invoke %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("awstest: invoke %s: read response: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("awstest: invoke %s: HTTP %d: %s", url, resp.StatusCode, body)
	}
	return body
}
