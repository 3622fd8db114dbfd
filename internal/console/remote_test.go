package console

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/calm-collector/calm-collector/internal/conntest"
	"github.com/calm-collector/calm-collector/internal/funcurl"
)

// fakeFunction stands in for the testconn function URL: it checks the SigV4 signature is there
// and answers like the function (a report; for save=true, 422 and saved:false on a failure).
type fakeFunction struct {
	mu   sync.Mutex
	reqs []string // "METHOD query body"
}

func (f *fakeFunction) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.reqs = append(f.reqs, r.Method+" "+r.URL.RawQuery+" "+string(body))
	f.mu.Unlock()
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDTEST/") {
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"Message":"Forbidden"}`))
		return
	}
	ok := !strings.Contains(string(body), "wrong")
	rep := conntest.Report{OK: ok, Connector: "prod", Checks: []conntest.Check{{ID: "settings", Status: conntest.Pass}, {ID: "token", Status: conntest.Pass}}}
	if !ok {
		rep.Checks[1] = conntest.Check{ID: "token", Status: conntest.Fail, Detail: "HTTP 401 invalid_client", Hint: "the client ID or client secret is wrong"}
	}
	resp := map[string]any{"ok": rep.OK, "connector": rep.Connector, "durationMs": 1, "checks": rep.Checks}
	status := http.StatusOK
	if r.URL.Query().Get("save") == "true" {
		resp["saved"] = ok
		if !ok {
			status = http.StatusUnprocessableEntity
			resp["error"] = "not saved: the connection test failed; the stored secret is unchanged"
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(resp)
}

func TestRemoteTestsAndSavesThroughTheFunctionURL(t *testing.T) {
	fn := &fakeFunction{}
	srv := httptest.NewServer(fn)
	defer srv.Close()
	caller := &funcurl.Caller{AWS: aws.Config{Region: "eu-central-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret-access-key", "")}}
	tc := startConsole(t, Config{Remote: &Remote{URL: srv.URL + "/", Caller: caller}})
	tok := tc.token(t)

	_, page := tc.get(t, "/")
	if !strings.Contains(page, "tests run in the testconn function") || !strings.Contains(page, `name="fnConnector"`) {
		t.Errorf("the page does not show the function URL mode")
	}
	fields := url.Values{"csrf": {tok}, "name": {"prod"}, "authenticationServer": {"https://sub.authentication.eu10.hana.ondemand.com"},
		"clientId": {"sb-x!b1|sapcloudalm!b2"}, "clientSecret": {"wrong-secret"}, "url": {"https://t.eu10.alm.cloud.sap"}, "fnConnector": {"prod"}}
	_, body := tc.post(t, "/save", fields, true)
	if checkStatuses(body)["token"] != "fail" || !strings.Contains(body, `class="saved no"`) || !strings.Contains(body, "not saved: the connection test failed") {
		t.Errorf("failed remote save:\n%s", body)
	}
	fields.Set("clientSecret", "good-secret")
	_, body = tc.post(t, "/save", fields, true)
	if !strings.Contains(body, `class="saved yes"`) {
		t.Errorf("passing remote save:\n%s", body)
	}
	// An empty form tests the function's stored connector (GET).
	_, body = tc.post(t, "/test", url.Values{"csrf": {tok}, "fnConnector": {"prod"}}, true)
	if !strings.Contains(body, `data-ok="true"`) {
		t.Errorf("remote test of the stored connector:\n%s", body)
	}
	want := []string{"POST connector=prod&save=true ", "POST connector=prod&save=true ", "GET connector=prod "}
	if len(fn.reqs) != len(want) {
		t.Fatalf("function requests %q", fn.reqs)
	}
	for i, w := range want {
		if !strings.HasPrefix(fn.reqs[i], w) {
			t.Errorf("request %d = %q, want %q…", i, fn.reqs[i], w)
		}
	}
	for _, b := range tc.bodies {
		if strings.Contains(b, "good-secret") || strings.Contains(b, "wrong-secret") || strings.Contains(b, "secret-access-key") {
			t.Error("a response holds a secret")
		}
	}

	// Unsigned or refused: the function's 403 is explained.
	bad := &funcurl.Caller{AWS: aws.Config{Region: "eu-central-1", Credentials: credentials.NewStaticCredentialsProvider("OTHER", "x", "")}}
	tc2 := startConsole(t, Config{Remote: &Remote{URL: srv.URL + "/", Caller: bad}})
	_, body = tc2.post(t, "/test", url.Values{"csrf": {tc2.token(t)}}, true)
	if !strings.Contains(body, "HTTP 403") || !strings.Contains(body, "lambda:InvokeFunctionUrl") {
		t.Errorf("refused call:\n%s", body)
	}
}

func TestKeyFor(t *testing.T) {
	for in, want := range map[string]string{
		"conf/prod-eu10.json": "prod-eu10",
		"calm/prod":           "prod",
		"arn:aws:secretsmanager:eu-central-1:123456789012:secret:calm/prod-eu10-AbCdEf": "prod-eu10",
		"weird name!": "weird-name-",
		"///":         "connector",
	} {
		if got := KeyFor(in); got != want {
			t.Errorf("KeyFor(%q) = %q, want %q", in, got, want)
		}
	}
}
