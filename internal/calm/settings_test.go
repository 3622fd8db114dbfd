package calm

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

const (
	skClientID = "sb-calm!b123|sapcloudalm!b456"
	skSecret   = "s3cr3t-value$xyz="
)

func TestParseSettingsServiceKey(t *testing.T) {
	data, err := os.ReadFile("testdata/servicekey.json")
	if err != nil {
		t.Fatal(err)
	}
	s, warnings, err := ParseSettings(data)
	if err != nil {
		t.Fatalf("ParseSettings: %v", err)
	}
	want := Settings{
		Name:                 "mytenant",
		AuthenticationServer: "https://mysub.authentication.eu10.hana.ondemand.com",
		ClientID:             skClientID,
		ClientSecret:         skSecret,
		URL:                  "https://mytenant.eu10.alm.cloud.sap",
		CredentialType:       "binding-secret",
	}
	if !reflect.DeepEqual(s, want) || s.ClientSecret.Reveal() != skSecret {
		t.Errorf("settings = %#v, want %#v", s, want)
	}
	// endpoints.Api always ends in /api: taking it off is the rule, not a mistake to warn about.
	if len(warnings) != 0 {
		t.Errorf("warnings = %q, want none for a service key as downloaded", warnings)
	}
	if got := s.TokenURL(); got != "https://mysub.authentication.eu10.hana.ondemand.com/oauth/token" {
		t.Errorf("TokenURL = %s", got)
	}
	if got := s.APIBase(); got != "https://mytenant.eu10.alm.cloud.sap/api" {
		t.Errorf("APIBase = %s", got)
	}
}

func TestParseSettingsConnectorRoundTrip(t *testing.T) {
	data, err := os.ReadFile("testdata/connector.json")
	if err != nil {
		t.Fatal(err)
	}
	s, warnings, err := ParseSettings(data)
	if err != nil || len(warnings) != 0 {
		t.Fatalf("ParseSettings: %v, warnings %q", err, warnings)
	}
	if s.Name != "prod-eu10" || s.ClientID != skClientID || s.ClientSecret.Reveal() != skSecret {
		t.Errorf("settings = %+v", s)
	}
	out, err := s.MarshalConnector()
	if err != nil {
		t.Fatal(err)
	}
	var got, want map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MarshalConnector = %s, want the input %s", out, data)
	}
	again, _, err := ParseSettings(out)
	if err != nil || !reflect.DeepEqual(again, s) {
		t.Errorf("re-parse = %+v, %v; want %+v", again, err, s)
	}
}

// connectorJSON builds connector-fields JSON, with fields set to "" deleted.
func connectorJSON(t *testing.T, edit func(m map[string]any)) []byte {
	t.Helper()
	m := map[string]any{
		"authenticationServer": "https://mysub.authentication.eu10.hana.ondemand.com",
		"clientId":             skClientID,
		"clientSecret":         skSecret,
		"url":                  "https://mytenant.eu10.alm.cloud.sap",
	}
	if edit != nil {
		edit(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseSettingsNormalises(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(m map[string]any)
		check    func(s Settings) bool
		warnings []string
	}{
		{
			name:     "url with /api",
			edit:     func(m map[string]any) { m["url"] = "https://t.eu10.alm.cloud.sap/api" },
			check:    func(s Settings) bool { return s.URL == "https://t.eu10.alm.cloud.sap" && s.Name == "t" },
			warnings: []string{"url: removed the trailing /api (the url is endpoints.Api without /api; the collector adds /api itself); using https://t.eu10.alm.cloud.sap"},
		},
		{
			name:     "url with /api/",
			edit:     func(m map[string]any) { m["url"] = "https://t.eu10.alm.cloud.sap/api/" },
			check:    func(s Settings) bool { return s.URL == "https://t.eu10.alm.cloud.sap" },
			warnings: []string{"url: removed the trailing /api (the url is endpoints.Api without /api; the collector adds /api itself); using https://t.eu10.alm.cloud.sap"},
		},
		{
			name:     "url with /api/api",
			edit:     func(m map[string]any) { m["url"] = "https://t.eu10.alm.cloud.sap/api/api" },
			check:    func(s Settings) bool { return s.URL == "https://t.eu10.alm.cloud.sap" },
			warnings: []string{"url: removed the trailing /api (the url is endpoints.Api without /api; the collector adds /api itself); using https://t.eu10.alm.cloud.sap"},
		},
		{
			name:     "url with trailing slash",
			edit:     func(m map[string]any) { m["url"] = "https://t.eu10.alm.cloud.sap/" },
			check:    func(s Settings) bool { return s.URL == "https://t.eu10.alm.cloud.sap" },
			warnings: []string{"url: removed the trailing slash; using https://t.eu10.alm.cloud.sap"},
		},
		{
			name: "auth server with /oauth/token",
			edit: func(m map[string]any) {
				m["authenticationServer"] = "https://s.authentication.eu10.hana.ondemand.com/oauth/token"
			},
			check: func(s Settings) bool {
				return s.AuthenticationServer == "https://s.authentication.eu10.hana.ondemand.com" &&
					s.TokenURL() == "https://s.authentication.eu10.hana.ondemand.com/oauth/token"
			},
			warnings: []string{"authenticationServer: removed the trailing /oauth/token (the token endpoint is always {authenticationServer}/oauth/token); using https://s.authentication.eu10.hana.ondemand.com"},
		},
		{
			name: "values with spaces and newlines around",
			edit: func(m map[string]any) {
				m["clientSecret"] = "  " + skSecret + "\n"
				m["clientId"] = "\t" + skClientID + " "
				m["name"] = " prod "
			},
			check: func(s Settings) bool {
				return s.ClientSecret.Reveal() == skSecret && s.ClientID == skClientID && s.Name == "prod"
			},
			warnings: []string{
				"name: removed spaces or line breaks around the value",
				"clientId: removed spaces or line breaks around the value",
				"clientSecret: removed spaces or line breaks around the value",
			},
		},
		{
			name: "unknown fields are ignored with a warning",
			edit: func(m map[string]any) { m["tenant"] = "x"; m["clientsecret"] = "y" },
			check: func(s Settings) bool {
				return s.ClientSecret.Reveal() == skSecret
			},
			warnings: []string{`ignored unknown field "clientsecret"`, `ignored unknown field "tenant"`},
		},
		{
			name: "http to a loopback host",
			edit: func(m map[string]any) {
				m["url"] = "http://127.0.0.1:8080"
				m["authenticationServer"] = "http://localhost:9090"
			},
			check: func(s Settings) bool { return s.URL == "http://127.0.0.1:8080" && s.Name == "127.0.0.1" },
		},
		{
			name: "http to ::1",
			edit: func(m map[string]any) {
				m["url"] = "http://[::1]:8080"
				m["authenticationServer"] = "http://[::1]:9090"
			},
			check: func(s Settings) bool { return s.URL == "http://[::1]:8080" && s.Name == "ip6---1" },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, warnings, err := ParseSettings(connectorJSON(t, tt.edit))
			if err != nil {
				t.Fatalf("ParseSettings: %v", err)
			}
			if !tt.check(s) {
				t.Errorf("settings = %+v", s)
			}
			if !reflect.DeepEqual(warnings, tt.warnings) {
				t.Errorf("warnings =\n%q\nwant\n%q", warnings, tt.warnings)
			}
		})
	}
}

func TestParseSettingsBadInput(t *testing.T) {
	const prefix = "invalid connector settings: "
	tests := []struct {
		name string
		data string
		want string
	}{
		{"empty", "", "secret: is empty; paste the connector fields or the BTP service key JSON"},
		{"blank", " \n\t", "secret: is empty; paste the connector fields or the BTP service key JSON"},
		{"not JSON", `clientSecret=abc`, "secret: is not valid JSON (syntax error at byte 1); paste the connector fields or the BTP service key exactly as downloaded"},
		{"truncated JSON", `{"clientId":"a",`, "secret: is not valid JSON (syntax error at byte 16); paste the connector fields or the BTP service key exactly as downloaded"},
		{"JSON array", `[{"clientId":"a"}]`, "secret: is a JSON array; it must be a JSON object (the connector fields or the BTP service key)"},
		{"JSON string", `"abc"`, "secret: is not a JSON object; it must be the connector fields or the BTP service key"},
		{"JSON null", `null`, "secret: is JSON null; it must be a JSON object (the connector fields or the BTP service key)"},
		{"everything missing", `{}`, strings.Join([]string{
			`name: is missing and cannot be derived from the url; set a short name for this tenant (in the service key: top-level "name" (optional; defaults to the first label of the URL host))`,
			"url: is missing (in the service key: endpoints.Api without /api)",
			"clientId: is missing; copy uaa.clientid from the service key (in the service key: uaa.clientid)",
			"authenticationServer: is missing (in the service key: uaa.url)",
			"clientSecret: is missing; copy uaa.clientsecret from the service key, or create a new service key if it was not kept (in the service key: uaa.clientsecret (shown only once, when the binding or service key is created))",
		}, "; ")},
		{"clientId missing", string(connectorJSON(t, func(m map[string]any) { delete(m, "clientId") })),
			"clientId: is missing; copy uaa.clientid from the service key (in the service key: uaa.clientid)"},
		{"clientSecret missing", string(connectorJSON(t, func(m map[string]any) { delete(m, "clientSecret") })),
			"clientSecret: is missing; copy uaa.clientsecret from the service key, or create a new service key if it was not kept (in the service key: uaa.clientsecret (shown only once, when the binding or service key is created))"},
		{"clientSecret blank", string(connectorJSON(t, func(m map[string]any) { m["clientSecret"] = " \n" })),
			"clientSecret: is missing; copy uaa.clientsecret from the service key, or create a new service key if it was not kept (in the service key: uaa.clientsecret (shown only once, when the binding or service key is created))"},
		{"url missing", string(connectorJSON(t, func(m map[string]any) { delete(m, "url") })),
			`name: is missing and cannot be derived from the url; set a short name for this tenant (in the service key: top-level "name" (optional; defaults to the first label of the URL host)); url: is missing (in the service key: endpoints.Api without /api)`},
		{"url missing with name", string(connectorJSON(t, func(m map[string]any) { delete(m, "url"); m["name"] = "prod" })),
			"url: is missing (in the service key: endpoints.Api without /api)"},
		{"authenticationServer missing", string(connectorJSON(t, func(m map[string]any) { delete(m, "authenticationServer") })),
			"authenticationServer: is missing (in the service key: uaa.url)"},
		{"http to a non-loopback host", string(connectorJSON(t, func(m map[string]any) {
			m["url"] = "http://t.eu10.alm.cloud.sap"
			m["authenticationServer"] = "http://10.0.0.1"
		})), "url: must use https (http is allowed only for loopback hosts: localhost, 127.0.0.0/8, ::1) (in the service key: endpoints.Api without /api); " +
			"authenticationServer: must use https (http is allowed only for loopback hosts: localhost, 127.0.0.0/8, ::1) (in the service key: uaa.url)"},
		{"not a URL", string(connectorJSON(t, func(m map[string]any) { m["url"] = "t.eu10.alm.cloud.sap"; m["name"] = "t" })),
			"url: is not an absolute URL; it must look like https://host (in the service key: endpoints.Api without /api)"},
		{"URL with credentials", string(connectorJSON(t, func(m map[string]any) { m["url"] = "https://u:p@t.eu10.alm.cloud.sap" })),
			"url: must not contain a user name or password (in the service key: endpoints.Api without /api)"},
		{"bad name", string(connectorJSON(t, func(m map[string]any) { m["name"] = "prod eu10/x" })),
			`name: must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit (in the service key: top-level "name" (optional; defaults to the first label of the URL host))`},
		{"port out of range", string(connectorJSON(t, func(m map[string]any) {
			m["url"] = "https://t.eu10.alm.cloud.sap:99999"
			m["authenticationServer"] = "https://sub.authentication.eu10.hana.ondemand.com:0"
		})), "url: has port 99999; a port is a number from 1 to 65535 (in the service key: endpoints.Api without /api); " +
			"authenticationServer: has port 0; a port is a number from 1 to 65535 (in the service key: uaa.url)"},
		{"host name over 253 characters", string(connectorJSON(t, func(m map[string]any) {
			m["url"] = "https://" + strings.Repeat("a.", 1250) + "alm.cloud.sap"
			m["name"] = "t"
		})), "url: has a host name of 2513 characters; a DNS name has at most 253 (in the service key: endpoints.Api without /api)"},
		{"host label over 63 characters", string(connectorJSON(t, func(m map[string]any) {
			m["authenticationServer"] = "https://" + strings.Repeat("s", 64) + ".authentication.eu10.hana.ondemand.com"
		})), "authenticationServer: has a host name with an empty label or a label longer than 63 characters; copy the host from the service key (in the service key: uaa.url)"},
		{"host with odd characters", string(connectorJSON(t, func(m map[string]any) {
			m["authenticationServer"] = "https://sub!x.authentication.eu10.hana.ondemand.com"
		})), "authenticationServer: has a host name with characters other than letters, digits, '-' and '.'; copy the host from the service key (in the service key: uaa.url)"},
		{"invalid UTF-8 in every kind of field", `{"name":"prod","url":"https://t.eu10.alm.cloud.sap` + "\xff" + `","authenticationServer":"https://s.authentication.eu10.hana.ondemand.com","clientId":"c` + `\ud800` + `","clientSecret":"` + skSecret + "\xfe" + `"}`,
			"clientId: is not valid UTF-8; copy the value from the service key again (in the service key: uaa.clientid); " +
				"clientSecret: is not valid UTF-8; copy the value from the service key again (in the service key: uaa.clientsecret (shown only once, when the binding or service key is created)); " +
				"url: is not valid UTF-8; copy the value from the service key again (in the service key: endpoints.Api without /api)"},
		{"wrong type", string(connectorJSON(t, func(m map[string]any) { m["clientId"] = 42 })),
			"clientId: must be a JSON string (in the service key: uaa.clientid)"},
		{"service key without uaa", `{"endpoints":{"Api":"https://t.eu10.alm.cloud.sap/api"}}`, strings.Join([]string{
			"clientId: is missing; copy uaa.clientid from the service key (in the service key: uaa.clientid)",
			"authenticationServer: is missing (in the service key: uaa.url)",
			"clientSecret: is missing; copy uaa.clientsecret from the service key, or create a new service key if it was not kept (in the service key: uaa.clientsecret (shown only once, when the binding or service key is created))",
		}, "; ")},
		{"service key with an unknown credential type", `{"endpoints":{"Api":"https://t.eu10.alm.cloud.sap/api"},"uaa":{"clientid":"c","clientsecret":"s","url":"https://a.b","credential-type":"instance-secret"}}`,
			`credentialType: is "instance-secret"; it must be "binding-secret" or "x509" (in the service key: uaa.credential-type)`},
		{"x509 key without key", `{"endpoints":{"Api":"https://t.eu10.alm.cloud.sap/api"},"uaa":{"clientid":"c","url":"https://a.b","certurl":"https://a.cert.b","credential-type":"x509","certificate":"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}}`,
			"key: is missing; an x509 service key carries the private key in uaa.key (in the service key: uaa.key (shown only once, when the binding or service key is created))"},
		{"x509 key without certificate and certurl", `{"endpoints":{"Api":"https://t.eu10.alm.cloud.sap/api"},"uaa":{"clientid":"c","url":"https://a.b","credential-type":"x509","key":"-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"}}`,
			"certUrl: is missing (in the service key: uaa.certurl); certificate: is missing; an x509 service key carries the client certificate in uaa.certificate (in the service key: uaa.certificate)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, err := ParseSettings([]byte(tt.data))
			if err == nil {
				t.Fatalf("ParseSettings = %+v, want an error", s)
			}
			var se *SettingsError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *SettingsError: %v", err, err)
			}
			if got := err.Error(); got != prefix+tt.want {
				t.Errorf("error =\n%s\nwant\n%s", got, prefix+tt.want)
			}
			for _, p := range se.Problems {
				if p.Field == "" || p.Message == "" {
					t.Errorf("problem without field or message: %+v", p)
				}
			}
			if strings.Contains(err.Error(), skSecret) {
				t.Errorf("error leaks the secret: %s", err)
			}
		})
	}
}

func TestSettingsErrorProblemsCarryWhere(t *testing.T) {
	_, _, err := ParseSettings([]byte(`{"endpoints":{"Api":"https://t.eu10.alm.cloud.sap/api"},"uaa":{}}`))
	var se *SettingsError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v", err)
	}
	where := map[string]string{}
	for _, p := range se.Problems {
		where[p.Field] = p.Where
	}
	want := map[string]string{
		"clientId":             "uaa.clientid",
		"authenticationServer": "uaa.url",
		"clientSecret":         "uaa.clientsecret (shown only once, when the binding or service key is created)",
	}
	if !reflect.DeepEqual(where, want) {
		t.Errorf("where = %v, want %v", where, want)
	}
}

func TestServiceKeyUnknownFieldsWarned(t *testing.T) {
	data := `{"name":"prod","endpoints":{"Api":"https://t.eu10.alm.cloud.sap/api"},"extra":1,` +
		`"uaa":{"clientid":"c","clientsecret":"s","url":"https://a.b","identityzone":"z","colour":"red"}}`
	s, warnings, err := ParseSettings([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "prod" {
		t.Errorf("name = %q, want the top-level name", s.Name)
	}
	want := []string{`ignored unknown field "extra"`, `ignored unknown field "uaa.colour"`}
	if !reflect.DeepEqual(warnings, want) {
		t.Errorf("warnings = %q, want %q", warnings, want)
	}
}

func TestValidate(t *testing.T) {
	s := Settings{Name: "t", URL: "https://t.eu10.alm.cloud.sap", AuthenticationServer: "https://a.b", ClientID: "c", ClientSecret: "s"}
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	s.URL += "/api"
	s.AuthenticationServer += "/oauth/token"
	s.ClientSecret = ""
	want := "invalid connector settings: url: must not end with /api or a slash; use the endpoints.Api value without /api (in the service key: endpoints.Api without /api); " +
		"authenticationServer: must not end with /oauth/token or a slash; use the uaa.url value (in the service key: uaa.url); " +
		"clientSecret: is missing; copy uaa.clientsecret from the service key, or create a new service key if it was not kept (in the service key: uaa.clientsecret (shown only once, when the binding or service key is created))"
	if err := s.Validate(); err == nil || err.Error() != want {
		t.Errorf("Validate =\n%v\nwant\n%s", err, want)
	}
}

// A service key whose endpoints.Api was edited to end in /api/api (the classic doubled path)
// loses both, with a warning for the one that should not have been there.
func TestServiceKeyDoubledAPIWarned(t *testing.T) {
	data := `{"endpoints":{"Api":"https://t.eu10.alm.cloud.sap/api/api/"},` +
		`"uaa":{"clientid":"c","clientsecret":"s","url":"https://a.b"}}`
	s, warnings, err := ParseSettings([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"url: removed the trailing /api (the url is endpoints.Api without /api; the collector adds /api itself); using https://t.eu10.alm.cloud.sap"}
	if s.URL != "https://t.eu10.alm.cloud.sap" || !reflect.DeepEqual(warnings, want) {
		t.Errorf("url %q, warnings %q; want %q", s.URL, warnings, want)
	}
}
