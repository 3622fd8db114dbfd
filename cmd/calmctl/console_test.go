package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
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

func TestRunConsoleServesUntilCancelled(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int)
	go func() {
		done <- runConsole(ctx, []string{"--addr", "127.0.0.1:0", "--connectors-dir", filepath.Join(dir, "c"),
			"--state", filepath.Join(dir, "state"), "--records", filepath.Join(dir, "r.ndjson")}, &out, &errb)
	}()
	re := regexp.MustCompile(`http://127\.0\.0\.1:\d+/`)
	var url string
	for i := 0; url == ""; i++ {
		url = re.FindString(out.String())
		if i == 500 {
			cancel()
			t.Fatalf("console did not come up: %q %q", out.String(), errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
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
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d: %s", code, errb.String())
	}
	// The console only looks: a missing state directory is not created.
	if _, err := os.Stat(filepath.Join(dir, "state")); !os.IsNotExist(err) {
		t.Errorf("the status view created the state directory (stat: %v)", err)
	}
}
