package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/calm-collector/calm-collector/internal/conntest"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

// POSTed settings whose token endpoint redirects (307) to another port: the function does not
// re-post the client secret there, and the report says why.
func TestPostRefusesTokenRedirect(t *testing.T) {
	e := newEnv(t, nil, loopbackAllowed())
	front, hits := testkit.RedirectingFront(t, e.sim, "/oauth/token", http.StatusPermanentRedirect)
	var conn map[string]string
	if err := json.Unmarshal(e.sim.ConnectorJSON(), &conn); err != nil {
		t.Fatal(err)
	}
	conn["url"], conn["authenticationServer"] = front.URL, front.URL
	body, _ := json.Marshal(conn)
	resp, err := e.h.Handle(context.Background(), request("POST", "", string(body), false))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, %v: %s", resp.StatusCode, err, resp.Body)
	}
	var a answer
	if err := json.Unmarshal([]byte(resp.Body), &a); err != nil {
		t.Fatal(err)
	}
	if tok, _ := a.Check("token"); tok.Status != conntest.Fail || !strings.Contains(tok.Detail, "follows no redirect") {
		t.Errorf("token = %+v, want a failure saying the redirect is not followed", tok)
	}
	if hits.Load() != 0 {
		t.Errorf("the token request followed the redirect to another port")
	}
	if strings.Contains(resp.Body, simSecret) {
		t.Errorf("the answer holds the secret")
	}
}
