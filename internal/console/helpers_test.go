package console

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// testConsole is a console served on 127.0.0.1 for one test, with a browser-like client.
type testConsole struct {
	*Console
	URL    string
	client *http.Client
	bodies []string // every response body the client read, for the secret check
}

func startConsole(t *testing.T, cfg Config) *testConsole {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := Listen("127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("console shutdown: %v", err)
		}
	})
	jar, _ := cookiejar.New(nil)
	return &testConsole{Console: c, URL: "http://" + ln.Addr().String(), client: &http.Client{Jar: jar}}
}

// do sends a request and returns the status and body.
func (tc *testConsole) do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := tc.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	tc.bodies = append(tc.bodies, string(b))
	return resp, string(b)
}

func (tc *testConsole) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, tc.URL+path, nil)
	return tc.do(t, req)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// token loads the page and returns its anti-CSRF token (the cookie lands in the jar).
func (tc *testConsole) token(t *testing.T) string {
	t.Helper()
	_, body := tc.get(t, "/")
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf field in the page:\n%s", body)
	}
	return m[1]
}

// post sends a form like the page's script does (fragment answer) when fragment is set, else
// like a plain form post.
func (tc *testConsole) post(t *testing.T, path string, form url.Values, fragment bool) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, tc.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", tc.URL)
	if fragment {
		req.Header.Set("X-Console-Fragment", "1")
	}
	return tc.do(t, req)
}

// checkStatuses reads the data-check/data-status pairs of a rendered checklist.
func checkStatuses(body string) map[string]string {
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`data-check="([^"]+)" data-status="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	return out
}
