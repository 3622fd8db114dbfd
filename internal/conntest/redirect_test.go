package conntest

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

// The connection test (calmctl test, testconn, the console) never re-posts the client secret
// to where the token endpoint redirects, nor sends the bearer token to another origin.
func TestRunRefusesCredentialRedirects(t *testing.T) {
	for _, tc := range []struct {
		path, check, want string
	}{
		{"/oauth/token", "token", "follows no redirect"},
		{"/api/calm-analytics/v1/analytics/providers", "api", "another scheme, host or port"},
	} {
		t.Run(tc.check, func(t *testing.T) {
			s := sim.StartTest(t, sim.Config{ClientSecret: "conntest-redirect-secret"})
			front, hits := testkit.RedirectingFront(t, s, tc.path, http.StatusTemporaryRedirect)
			raw := connector(t, s, map[string]string{"url": front.URL, "authenticationServer": front.URL})
			r := Run(context.Background(), raw, Options{Monitors: []string{"hm"}})
			c, _ := r.Check(tc.check)
			if c.Status != Fail || !strings.Contains(c.Detail+c.Hint, tc.want) {
				t.Errorf("%s = %+v, want a failure saying %q", tc.check, c, tc.want)
			}
			if n := hits.Load(); n != 0 {
				t.Errorf("%d requests followed the redirect to another port", n)
			}
			if b, _ := json.Marshal(r); strings.Contains(string(b), "conntest-redirect-secret") {
				t.Errorf("the report holds the secret")
			}
		})
	}
}
