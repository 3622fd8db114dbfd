package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

// calmctl test against a token endpoint that redirects (307) to another port: the client secret
// is not re-posted there, and the report says why the test failed.
func TestCalmctlTestRefusesTokenRedirect(t *testing.T) {
	s := sim.StartTest(t, sim.Config{ClientSecret: "calmctl-redirect-secret"})
	front, hits := testkit.RedirectingFront(t, s, "/oauth/token", http.StatusTemporaryRedirect)
	var conn map[string]string
	if err := json.Unmarshal(s.ConnectorJSON(), &conn); err != nil {
		t.Fatal(err)
	}
	conn["url"], conn["authenticationServer"] = front.URL, front.URL
	raw, _ := json.Marshal(conn)
	code, stdout, stderr := runTestCmd("--secret-file", writeFile(t, raw), "--monitors", "hm")
	if code == 0 || !strings.Contains(stdout, "follows no redirect") {
		t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s\nwant a failed token check saying the redirect is not followed", code, stdout, stderr)
	}
	if hits.Load() != 0 {
		t.Errorf("the token request followed the redirect to another port")
	}
	if strings.Contains(stdout+stderr, "calmctl-redirect-secret") {
		t.Errorf("the output holds the secret")
	}
}
