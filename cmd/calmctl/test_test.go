package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/calm-collector/calm-collector/internal/awstest"
	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/state"
)

func writeFile(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "connector.json")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func runTestCmd(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = runTest(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCalmctlTestAgainstSim(t *testing.T) {
	s := sim.StartTest(t, sim.Config{ClientSecret: "cli-test-secret-value"})
	good := writeFile(t, s.ConnectorJSON())
	var wrong map[string]string
	if err := json.Unmarshal(s.ConnectorJSON(), &wrong); err != nil {
		t.Fatal(err)
	}
	wrong["clientSecret"] = "not-the-secret"
	wrongJSON, _ := json.Marshal(wrong)
	bad := writeFile(t, wrongJSON)
	broken := writeFile(t, []byte(`{"url":"ftp://x","clientId":"c","clientSecret":"s3cr3t-value","authenticationServer":"https://a.hana.ondemand.com"}`))

	cases := []struct {
		name     string
		args     []string
		code     int
		inStdout []string
		inStderr string
	}{
		{"pass", []string{"--secret-file", good}, 0, []string{"connection test of sim: passed", "ok    monitor:hm"}, ""},
		{"pass with two monitors", []string{"--secret-file", good, "--monitors", "hm,status"}, 0, []string{"monitor:status"}, ""},
		{"wrong secret", []string{"--secret-file", bad}, 1, []string{"FAILED", "FAIL  token", "hint: the client ID or client secret is wrong"}, ""},
		{"bad settings", []string{"--secret-file", broken}, 2, []string{"FAIL  settings", "url:"}, ""},
		{"no source", nil, 2, nil, "give exactly one of --secret-file and --secret-id"},
		{"two sources", []string{"--secret-file", good, "--secret-id", "x"}, 2, nil, "give exactly one"},
		{"missing file", []string{"--secret-file", filepath.Join(t.TempDir(), "nope.json")}, 2, nil, "read the settings"},
		{"unknown monitor", []string{"--secret-file", good, "--monitors", "hm,bogus"}, 2, nil, "unknown monitor bogus"},
		{"save without function url", []string{"--secret-file", good, "--save"}, 2, nil, "need --function-url"},
		{"stray argument", []string{"--secret-file", good, "extra"}, 2, nil, `unexpected argument "extra"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runTestCmd(c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, stdout, stderr)
			}
			for _, want := range c.inStdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
			if !strings.Contains(stderr, c.inStderr) {
				t.Errorf("stderr lacks %q:\n%s", c.inStderr, stderr)
			}
			if strings.Contains(stdout+stderr, "cli-test-secret-value") {
				t.Error("the client secret was printed")
			}
		})
	}
}

// calmctl test passes against the default and the strict simulator (sim.Readings), every
// monitor it probes by default and the logs included; api-shape tells the two apart.
func TestCalmctlTestPassesAgainstBothSimulators(t *testing.T) {
	for _, v := range sim.Readings() {
		t.Run(v.Name, func(t *testing.T) {
			s := sim.StartTest(t, v.Config)
			code, stdout, stderr := runTestCmd("--secret-file", writeFile(t, s.ConnectorJSON()), "--monitors", "hm,rum,jam,exm,iep,status,logs")
			if code != 0 || !strings.Contains(stdout, "connection test of sim: passed") {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			for _, m := range []string{"hm", "rum", "jam", "exm", "iep", "status", "logs"} {
				if !strings.Contains(stdout, "ok    monitor:"+m) {
					t.Errorf("monitor:%s did not pass:\n%s", m, stdout)
				}
			}
			unit := map[string]string{"default": "limit/offset count data points", "strict": "limit/offset count rows"}[v.Name]
			if !strings.Contains(stdout, unit) {
				t.Errorf("api-shape does not say %q:\n%s", unit, stdout)
			}
		})
	}
}

// --settle is the horizon the quota projection assumes: the default is collection's, 0 none.
func TestCalmctlTestSettle(t *testing.T) {
	s := sim.StartTest(t, sim.Config{})
	key := writeFile(t, s.ConnectorJSON())
	for args, want := range map[string]string{
		"":            "late data re-checked over " + collect.DefaultSettle.String(),
		"--settle=1h": "late data re-checked over 1h0m0s",
		"--settle=0":  "no re-check for late data",
	} {
		argv := []string{"--secret-file", key, "--monitors", "hm,logs"}
		if args != "" {
			argv = append(argv, args)
		}
		code, stdout, stderr := runTestCmd(argv...)
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("calmctl test %s: exit %d, want %q in\n%s%s", args, code, want, stdout, stderr)
		}
		if args == "--settle=0" && strings.Contains(stdout, "a count per service") {
			t.Errorf("calmctl test --settle=0 still projects re-checks:\n%s", stdout)
		}
	}
	if code, _, stderr := runTestCmd("--secret-file", key, "--settle=-5m"); code != 2 || !strings.Contains(stderr, "--settle") {
		t.Errorf("--settle=-5m: exit %d, %s", code, stderr)
	}
}

func TestCalmctlTestJSON(t *testing.T) {
	s := sim.StartTest(t, sim.Config{})
	code, stdout, stderr := runTestCmd("--secret-file", writeFile(t, s.ConnectorJSON()), "--json", "--monitors", "hm")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	var r map[string]json.RawMessage
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	for _, k := range []string{"ok", "connector", "durationMs", "checks"} {
		if _, ok := r[k]; !ok {
			t.Errorf("report lacks %q", k)
		}
	}
	if len(r) != 4 {
		t.Errorf("report has keys beyond docs/design.md §3: %s", stdout)
	}
	var checks []map[string]any
	if err := json.Unmarshal(r["checks"], &checks); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range checks {
		ids = append(ids, c["id"].(string))
		for _, k := range []string{"id", "status", "detail", "durationMs"} {
			if _, ok := c[k]; !ok {
				t.Errorf("check %v lacks %q", c["id"], k)
			}
		}
	}
	if got := strings.Join(ids, ","); got != "settings,reach,token,scopes,api,api-shape,monitor:hm,quota" {
		t.Errorf("check ids = %s", got)
	}
}

// fakeFunction is a testconn function URL stand-in that verifies the SigV4 signature.
type fakeFunction struct {
	t      *testing.T
	status int
	body   string

	mu   sync.Mutex
	seen []*http.Request
	errs []string
}

func (f *fakeFunction) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.seen = append(f.seen, r)
	if msg := verifySigV4(r, body); msg != "" {
		f.errs = append(f.errs, msg)
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.status)
	_, _ = io.WriteString(w, f.body)
}

// verifySigV4 re-signs the request with the test credentials and compares the signature.
func verifySigV4(r *http.Request, body []byte) string {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDCALMTEST/") || !strings.Contains(auth, "/us-east-1/lambda/aws4_request") {
		return "authorization header is not a SigV4 signature for lambda in us-east-1: " + auth
	}
	sum := sha256.Sum256(body)
	if got := r.Header.Get("X-Amz-Content-Sha256"); got != hex.EncodeToString(sum[:]) {
		return "x-amz-content-sha256 does not match the body"
	}
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return "no x-amz-date"
	}
	_, signed, _ := strings.Cut(auth, "SignedHeaders=")
	signed, _, _ = strings.Cut(signed, ",")
	again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	for _, h := range strings.Split(signed, ";") {
		if h != "host" {
			again.Header.Set(h, r.Header.Get(h))
		}
	}
	creds := aws.Credentials{AccessKeyID: "AKIDCALMTEST", SecretAccessKey: "calm-test-secret-key"}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, again, hex.EncodeToString(sum[:]), "lambda", "us-east-1", when); err != nil {
		return err.Error()
	}
	if again.Header.Get("Authorization") != auth {
		return "signature does not verify:\n got " + auth + "\nwant " + again.Header.Get("Authorization")
	}
	return ""
}

func TestCalmctlTestFunctionURL(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDCALMTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "calm-test-secret-key")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_PROFILE", "")

	passed := `{"ok":true,"connector":"prod","durationMs":12,"checks":[{"id":"settings","status":"pass","detail":"fine","durationMs":0}]}`
	failed := `{"ok":false,"connector":"prod","durationMs":12,"checks":[{"id":"token","status":"fail","detail":"HTTP 401","hint":"copy again","durationMs":3}],"saved":false,"error":"not saved"}`
	settings := writeFile(t, []byte(`{"name":"prod","clientSecret":"x"}`))
	cases := []struct {
		name       string
		status     int
		body       string
		args       []string
		code       int
		method     string
		query      string
		wantStdout string
	}{
		{"get", 200, passed, nil, 0, "GET", "", "connection test of prod: passed"},
		{"get connector", 200, passed, []string{"--connector", "eu"}, 0, "GET", "connector=eu", "passed"},
		{"post", 200, passed, []string{"--secret-file", settings}, 0, "POST", "", "passed"},
		{"post save", 200, strings.TrimSuffix(passed, "}") + `,"saved":true}`, []string{"--secret-file", settings, "--save"}, 0, "POST", "save=true", "saved: the settings are stored"},
		{"post save fails", 422, failed, []string{"--secret-file", settings, "--save"}, 1, "POST", "save=true", "not saved"},
		{"json", 200, passed, []string{"--json"}, 0, "GET", "", `"ok": true`},
		{"refused", 403, `{"Message":"Forbidden"}`, nil, 2, "GET", "", ""},
		{"bad request", 400, `{"error":"the body is not valid JSON"}`, []string{"--secret-file", settings}, 2, "POST", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeFunction{t: t, status: c.status, body: c.body}
			srv := httptest.NewServer(f)
			defer srv.Close()
			code, stdout, stderr := runTestCmd(append([]string{"--function-url", srv.URL + "/"}, c.args...)...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, stdout, stderr)
			}
			if !strings.Contains(stdout, c.wantStdout) {
				t.Errorf("stdout lacks %q:\n%s", c.wantStdout, stdout)
			}
			if len(f.seen) != 1 {
				t.Fatalf("function saw %d requests", len(f.seen))
			}
			if r := f.seen[0]; r.Method != c.method || r.URL.RawQuery != c.query {
				t.Errorf("request %s ?%s, want %s ?%s", r.Method, r.URL.RawQuery, c.method, c.query)
			}
			for _, e := range f.errs {
				t.Error(e)
			}
			if c.status == 403 && !strings.Contains(stderr, "lambda:InvokeFunctionUrl") {
				t.Errorf("stderr lacks the IAM hint: %s", stderr)
			}
		})
	}

	// Usage errors never contact the function.
	for _, args := range [][]string{
		{"--function-url", "http://127.0.0.1:1/", "--save"},
		{"--function-url", "http://127.0.0.1:1/", "--secret-id", "x"},
		{"--function-url", "not a url"},
	} {
		if code, _, stderr := runTestCmd(args...); code != 2 {
			t.Errorf("%v: exit %d (%s), want 2", args, code, stderr)
		}
	}
}

func TestCalmctlTestPlaceholder(t *testing.T) {
	f := writeFile(t, []byte(`{"name":"prod","placeholder":"fill in with the BTP service key or connector fields; see README"}`))
	code, stdout, stderr := runTestCmd("--secret-file", f)
	if code != 2 || !strings.Contains(stdout, "not filled in yet") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

func TestCalmctlTestSecretID(t *testing.T) {
	moto := awstest.Moto(t)
	s := sim.StartTest(t, sim.Config{})
	id := "calm/calmctl-test-" + time.Now().Format("150405.000000")
	if _, err := moto.SecretsClient().CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: aws.String(id), SecretString: aws.String(string(s.ConnectorJSON()))}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", awstest.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", awstest.SecretKey)
	t.Setenv("AWS_REGION", awstest.Region)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("CALM_ENDPOINT_URL", moto.Endpoint())

	code, stdout, stderr := runTestCmd("--secret-id", id, "--monitors", "hm")
	if code != 0 || !strings.Contains(stdout, "passed") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	code, _, stderr = runTestCmd("--secret-id", "calm/no-such-secret")
	if code != 2 || !strings.Contains(stderr, "calm/no-such-secret") {
		t.Fatalf("missing secret: exit %d, stderr %s", code, stderr)
	}
}

// TestCalmctlTestReadsTheLearnedDelay: --state points api-shape at collection's state, where the
// late-data delay it learned is kept; a directory that does not exist is neither read nor made.
func TestCalmctlTestReadsTheLearnedDelay(t *testing.T) {
	s := sim.StartTest(t, sim.Config{})
	secret := writeFile(t, s.ConnectorJSON())
	dir := t.TempDir()
	store, err := state.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Put(context.Background(), state.Checkpoint{Tenant: "sim", Monitor: "hm", Next: time.Now().Truncate(time.Hour), Delay: 7 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runTestCmd("--secret-file", secret, "--monitors", "hm", "--state", dir)
	if code != 0 || !strings.Contains(stdout, "late data: up to 7m0s after a bucket closed") {
		t.Errorf("exit %d; api-shape does not give the learned delay:\n%s%s", code, stdout, stderr)
	}
	missing := filepath.Join(t.TempDir(), "none")
	code, stdout, stderr = runTestCmd("--secret-file", secret, "--monitors", "hm", "--state", missing)
	if code != 0 || !strings.Contains(stdout, "late data: none seen by collection yet") {
		t.Errorf("exit %d; without state api-shape says:\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("calmctl test made the state directory %s (%v)", missing, err)
	}
}
