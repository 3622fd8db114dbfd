package sim

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestTokenFormBody(t *testing.T) {
	s, _ := start(t, Config{})
	r := tokenRequest(t, s, credentials(s))
	if r.status != http.StatusOK {
		t.Fatalf("token: %v", r)
	}
	var tr tokenResponse
	if err := json.Unmarshal(r.body, &tr); err != nil {
		t.Fatal(err)
	}
	if tr.TokenType != "bearer" || tr.ExpiresIn != 43199 || tr.JTI == "" {
		t.Errorf("token_type %q expires_in %d jti %q, want bearer, 43199, set", tr.TokenType, tr.ExpiresIn, tr.JTI)
	}
	scopes := strings.Fields(tr.Scope)
	for _, sc := range AllScopes {
		if !slices.Contains(scopes, DefaultXSAppName+"."+sc) {
			t.Errorf("scope %q lacks %s.%s", tr.Scope, DefaultXSAppName, sc)
		}
	}
	c := jwtClaims(t, tr.AccessToken)
	if c["client_id"] != DefaultClientID {
		t.Errorf("client_id claim %v", c["client_id"])
	}
	if exp, _ := c["exp"].(float64); int64(exp) != t0.Add(DefaultTokenTTL).Unix() {
		t.Errorf("exp claim %v, want %d", c["exp"], t0.Add(DefaultTokenTTL).Unix())
	}
	list, _ := c["scope"].([]any)
	if len(list) != len(scopes) {
		t.Errorf("scope claim has %d entries, response scope %d", len(list), len(scopes))
	}
	if r.header.Get("x-correlationid") == "" {
		t.Error("no x-correlationid")
	}
}

func TestTokenTTLAndScopesConfigurable(t *testing.T) {
	s, _ := start(t, Config{TokenTTL: 90 * time.Second, Scopes: []string{ScopeAnalytics}, XSAppName: "app!b9"})
	var tr tokenResponse
	if err := json.Unmarshal(tokenRequest(t, s, credentials(s)).body, &tr); err != nil {
		t.Fatal(err)
	}
	if tr.ExpiresIn != 90 || tr.Scope != "uaa.resource app!b9.calm-api.analytics.read" {
		t.Errorf("expires_in %d scope %q", tr.ExpiresIn, tr.Scope)
	}
}

func TestTokenRejects(t *testing.T) {
	s, _ := start(t, Config{})
	wrong := credentials(s)
	wrong.Set("client_secret", "nope")
	noGrant := credentials(s)
	noGrant.Set("grant_type", "password")
	cases := []struct {
		name   string
		form   url.Values
		status int
		code   string
	}{
		{"wrong secret", wrong, 401, "invalid_client"},
		{"no client", url.Values{"grant_type": {"client_credentials"}}, 401, "unauthorized"},
		{"grant type", noGrant, 400, "unsupported_grant_type"},
	}
	for _, c := range cases {
		r := tokenRequest(t, s, c.form)
		var body map[string]string
		if err := json.Unmarshal(r.body, &body); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if r.status != c.status || body["error"] != c.code {
			t.Errorf("%s: %v, want %d %s", c.name, r, c.status, c.code)
		}
	}
	r := tokenRequest(t, s, wrong)
	if !strings.Contains(string(r.body), `"error_description":"Bad credentials"`) {
		t.Errorf("wrong secret body %s", r.body)
	}
	s.SetFaults(Faults{WrongCredentials: true})
	if r := tokenRequest(t, s, credentials(s)); r.status != 401 {
		t.Errorf("WrongCredentials fault: %v", r)
	}
}

func TestTokenBasicAuthIsNotURLDecoded(t *testing.T) {
	s, _ := start(t, Config{})
	basic := func(id, secret string) resp {
		req, _ := http.NewRequest(http.MethodPost, s.TokenURL(), strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(id, secret)
		return do(t, req)
	}
	if r := basic(DefaultClientID, DefaultClientSecret); r.status != 200 {
		t.Errorf("raw basic: %v", r)
	}
	// golang.org/x/oauth2 AuthStyleInHeader escapes the id: XSUAA refuses that.
	if r := basic(url.QueryEscape(DefaultClientID), DefaultClientSecret); r.status != 401 {
		t.Errorf("escaped basic: %v, want 401", r)
	}
}

func TestAPITokenChecks(t *testing.T) {
	s, clk := start(t, Config{TokenTTL: time.Hour})
	path := "/api/calm-analytics/v1/analytics/providers"
	if r := get(t, s, "", path, nil); r.status != 401 || r.header.Get("x-correlationid") == "" {
		t.Errorf("no token: %v", r)
	}
	if r := get(t, s, "abc.def.ghi", path, nil); r.status != 401 || !strings.Contains(string(r.body), "invalid_token") {
		t.Errorf("bad token: %v", r)
	}
	tok := token(t, s)
	if r := get(t, s, tok, path, nil); r.status != 200 {
		t.Fatalf("good token: %v", r)
	}
	if r := get(t, s, token(t, StartTest(t, Config{Now: clk.Now})), path, nil); r.status != 401 {
		t.Errorf("token of another simulator: %v", r)
	}
	clk.Set(t0.Add(time.Hour))
	if r := get(t, s, tok, path, nil); r.status != 401 || !strings.Contains(string(r.body), "expired") {
		t.Errorf("expired token: %v", r)
	}
}

func TestScopes(t *testing.T) {
	s, clk := start(t, Config{Scopes: []string{ScopeAnalytics, ScopeMetrics, ScopeEXM}})
	tok := token(t, s)
	from, to := t0.Add(-time.Hour).Truncate(time.Hour), t0.Truncate(time.Hour)
	if r := get(t, s, tok, metricsPath, metricsQuery("exm", from, to)); r.status != 200 {
		t.Errorf("exm with scope: %v", r)
	}
	r := get(t, s, tok, metricsPath, metricsQuery("hm", from, to))
	if r.status != 403 || string(r.body) != `{"error":"Forbidden","message":"Missing scope calm-api.hm.read"}` {
		t.Errorf("hm without scope: %v", r)
	}
	if r := get(t, s, tok, "/api/bsm-service/v1/events", nil); r.status != 403 {
		t.Errorf("events without bsm scope: %v", r)
	}
	// A fault takes a scope away from new tokens and from existing ones.
	s.SetFaults(Faults{MissingScopes: []string{ScopeMetrics}})
	if r := get(t, s, tok, metricsPath, metricsQuery("exm", from, to)); r.status != 403 || !strings.Contains(string(r.body), ScopeMetrics) {
		t.Errorf("exm without metrics scope: %v", r)
	}
	var tr tokenResponse
	if err := json.Unmarshal(tokenRequest(t, s, credentials(s)).body, &tr); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(tr.Scope, ScopeMetrics) {
		t.Errorf("new token scope %q still has %s", tr.Scope, ScopeMetrics)
	}
	_ = clk
}

func TestMutualTLSToken(t *testing.T) {
	pki, err := NewTestPKI()
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{})
	if err := s.StartTLS("127.0.0.1:0", pki); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	withCert, err := pki.ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	post := func(cfg *tls.Config) resp {
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
		defer hc.CloseIdleConnections()
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {DefaultClientID}}
		res, err := hc.PostForm(s.TokenURL(), form)
		if err != nil {
			t.Fatalf("post: %v", err)
		}
		defer res.Body.Close()
		var r resp
		r.status = res.StatusCode
		return r
	}
	if r := post(withCert); r.status != 200 {
		t.Errorf("with client certificate: %v", r)
	}
	if r := post(&tls.Config{RootCAs: pki.CAPool()}); r.status != 401 {
		t.Errorf("without client certificate: %v, want 401", r)
	}
	var key map[string]any
	if err := json.Unmarshal(s.ServiceKeyJSON(), &key); err != nil {
		t.Fatal(err)
	}
	uaa := key["uaa"].(map[string]any)
	if uaa["credential-type"] != "x509" || uaa["certurl"] != s.URL() || uaa["clientsecret"] != nil {
		t.Errorf("x509 service key: %v", uaa)
	}
}

func TestSecrets(t *testing.T) {
	s, _ := start(t, Config{})
	var c map[string]string
	if err := json.Unmarshal(s.ConnectorJSON(), &c); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"name": "sim", "authenticationServer": s.URL(), "clientId": DefaultClientID, "clientSecret": DefaultClientSecret, "url": s.URL()}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("connector %s = %q, want %q", k, c[k], v)
		}
	}
	var key struct {
		Endpoints struct{ Api string }
		UAA       map[string]any
	}
	if err := json.Unmarshal(s.ServiceKeyJSON(), &key); err != nil {
		t.Fatal(err)
	}
	if key.Endpoints.Api != s.URL()+"/api" || key.UAA["clientsecret"] != DefaultClientSecret || key.UAA["url"] != s.URL() ||
		key.UAA["credential-type"] != "binding-secret" {
		t.Errorf("service key: %+v", key)
	}
}
