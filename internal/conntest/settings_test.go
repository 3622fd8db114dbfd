package conntest

import (
	"context"
	"github.com/calm-collector/calm-collector/internal/monitor"
	"strings"
	"testing"
)

// Every bad-settings case fails the settings check naming the fields at fault, and skips the
// rest without contacting anything (the hosts below do not exist).
func TestRunBadSettings(t *testing.T) {
	const auth = `"authenticationServer":"https://sub.authentication.eu10.hana.ondemand.com"`
	const url = `"url":"https://t1.eu10.alm.cloud.sap"`
	cases := []struct {
		name   string
		raw    string
		fields []string // each must appear in the detail as "field:"
	}{
		{"not json", `{"clientId":`, []string{"secret"}},
		{"array", `[1,2]`, []string{"secret"}},
		{"string", `"just a string that is long"`, []string{"secret"}},
		{"nothing useful", `{"name":"x"}`, []string{"url", "clientId", "authenticationServer", "clientSecret"}},
		{"http host", `{"url":"http://t1.eu10.alm.cloud.sap","authenticationServer":"http://sub.authentication.eu10.hana.ondemand.com","clientId":"c","clientSecret":"s3cr3t-value"}`, []string{"url", "authenticationServer"}},
		{"query in url", `{"url":"https://t1.eu10.alm.cloud.sap?x=1",` + auth + `,"clientId":"c","clientSecret":"s3cr3t-value"}`, []string{"url"}},
		{"number secret", `{` + url + `,` + auth + `,"clientId":"c","clientSecret":12345}`, []string{"clientSecret"}},
		{"bad credential type", `{` + url + `,` + auth + `,"clientId":"c","clientSecret":"s3cr3t-value","credentialType":"password"}`, []string{"credentialType"}},
		{"x509 without material", `{` + url + `,"clientId":"c","credentialType":"x509"}`, []string{"certUrl", "certificate", "key"}},
		{"bad name", `{"name":"has space",` + url + `,` + auth + `,"clientId":"c","clientSecret":"s3cr3t-value"}`, []string{"name"}},
		{"service key without uaa fields", `{"endpoints":{"Api":"https://t1.eu10.alm.cloud.sap/api"},"uaa":{}}`, []string{"authenticationServer", "clientId", "clientSecret"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Run(context.Background(), []byte(c.raw), Options{})
			if r.OK {
				t.Fatalf("report OK for bad settings: %+v", r)
			}
			s := r.Checks[0]
			if s.ID != "settings" || s.Status != Fail || s.Hint == "" {
				t.Fatalf("settings check = %+v, want fail with hint", s)
			}
			for _, f := range c.fields {
				if !strings.Contains(s.Detail, f+":") {
					t.Errorf("detail %q does not name field %s", s.Detail, f)
				}
			}
			wantIDs := []string{"settings", "reach", "token", "scopes", "api", "api-shape"}
			for _, id := range monitor.Defaults() {
				wantIDs = append(wantIDs, "monitor:"+id)
			}
			wantIDs = append(wantIDs, "quota")
			if got := ids(r); strings.Join(got, ",") != strings.Join(wantIDs, ",") {
				t.Fatalf("checks = %v, want %v", got, wantIDs)
			}
			for _, ch := range r.Checks[1:] {
				if ch.Status != Skip || ch.Detail == "" {
					t.Errorf("check %s = %s %q, want skip with a reason", ch.ID, ch.Status, ch.Detail)
				}
			}
			if strings.Contains(s.Detail, "s3cr3t-value") || strings.Contains(s.Detail, "12345") {
				t.Errorf("detail leaks the secret: %q", s.Detail)
			}
		})
	}
}

func TestRunPlaceholder(t *testing.T) {
	r := Run(context.Background(), []byte(`{"name":"prod","clientSecret":"REPLACE_ME"}`), Options{})
	s := r.Checks[0]
	if r.OK || s.Status != Fail || !strings.Contains(s.Detail, "not filled in yet") || s.Hint == "" {
		t.Fatalf("settings = %+v", s)
	}
	if tok, _ := r.Check("token"); tok.Status != Skip {
		t.Fatalf("token = %+v, want skip", tok)
	}
}

func TestRunDisallowedHost(t *testing.T) {
	a, _ := ParseAllowlist("", false)
	raw := `{"url":"https://intranet.corp.example","authenticationServer":"https://127.0.0.1:8443","clientId":"c","clientSecret":"s3cr3t-value"}`
	r := Run(context.Background(), []byte(raw), Options{AllowHost: a.Host, AllowAddr: a.Addr})
	s := r.Checks[0]
	if s.Status != Fail || !strings.Contains(s.Detail, "url: host intranet.corp.example is not under") ||
		!strings.Contains(s.Detail, "authenticationServer: host 127.0.0.1 is a loopback address") ||
		!strings.Contains(s.Hint, "<region>.alm.cloud.sap") {
		t.Fatalf("settings = %+v", s)
	}
	if reach, _ := r.Check("reach"); reach.Status != Skip {
		t.Fatalf("reach = %+v, want skip (nothing may be contacted)", reach)
	}
}

func ids(r Report) []string {
	var out []string
	for _, c := range r.Checks {
		out = append(out, c.ID)
	}
	return out
}
