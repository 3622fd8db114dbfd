package calm

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fakeClock is a settable clock for the token cache.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func newTokens(t *testing.T, tn *tenant) (*TokenSource, *fakeClock) {
	t.Helper()
	ts, err := NewTokenSource(tn.settings, nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Now()}
	ts.now = clock.now
	return ts, clock
}

func TestTokenCachedAndScopes(t *testing.T) {
	tn := newTenant(t)
	ts, _ := newTokens(t, tn)
	ctx := context.Background()
	tok1, err := ts.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok2, err := ts.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tok1.AccessToken != tok2.AccessToken || tn.tokenCalls.Load() != 1 {
		t.Errorf("token not cached: %d calls", tn.tokenCalls.Load())
	}
	want := []string{"uaa.resource", "sapcloudalm!b456.calm-api.hm.read", "sapcloudalm!b456.calm-api.metrics.read"}
	if got := ts.Scopes(); !reflect.DeepEqual(got, want) {
		t.Errorf("Scopes = %q, want %q", got, want)
	}
	for suffix, want := range map[string]bool{
		"calm-api.hm.read": true, "calm-api.metrics.read": true, "calm-api.exm.read": false,
		"calm-api.jwt.read": false, "pi.hm.read": false,
	} {
		if got := ts.HasScope(suffix); got != want {
			t.Errorf("HasScope(%q) = %v, want %v", suffix, got, want)
		}
	}
	if tok1.Expiry.Before(time.Now().Add(43000*time.Second)) || tok1.Expiry.After(time.Now().Add(43200*time.Second)) {
		t.Errorf("Expiry = %v, want about now+43199s", tok1.Expiry)
	}
}

func TestTokenScopesFromJWT(t *testing.T) {
	tn := newTenant(t)
	tn.scope.Store("")
	ts, _ := newTokens(t, tn)
	if _, err := ts.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := ts.Scopes(); !reflect.DeepEqual(got, []string{"sapcloudalm!b456.calm-api.jwt.read"}) {
		t.Errorf("Scopes = %q, want the JWT claim", got)
	}
	if !ts.HasScope("calm-api.jwt.read") {
		t.Error("HasScope(calm-api.jwt.read) = false")
	}
}

func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	tests := []struct {
		name      string
		expiresIn int64
		keep      time.Duration // still cached at this age
		renew     time.Duration // fetched again at this age
	}{
		{"long lifetime refreshes 5 minutes early", 43199, 43199*time.Second - 6*time.Minute, 43199*time.Second - 4*time.Minute},
		{"short lifetime refreshes at 90%", 100, 85 * time.Second, 95 * time.Second},
		{"no expires_in is taken as one hour", 0, 54 * time.Minute, 56 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn := newTenant(t)
			tn.expiresIn.Store(tt.expiresIn)
			ts, clock := newTokens(t, tn)
			start := clock.t
			ctx := context.Background()
			tok, err := ts.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if tok.Expiry.IsZero() {
				t.Error("token without expiry; want one")
			}
			clock.t = start.Add(tt.keep)
			if _, err := ts.Token(ctx); err != nil {
				t.Fatal(err)
			}
			if n := tn.tokenCalls.Load(); n != 1 {
				t.Errorf("after %s: %d token calls, want 1 (cached)", tt.keep, n)
			}
			clock.t = start.Add(tt.renew)
			tok2, err := ts.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n := tn.tokenCalls.Load(); n != 2 || tok2.AccessToken == tok.AccessToken {
				t.Errorf("after %s: %d token calls, want 2 (refreshed)", tt.renew, n)
			}
		})
	}
}

func TestTokenForcedRefresh(t *testing.T) {
	tn := newTenant(t)
	ts, _ := newTokens(t, tn)
	ctx := context.Background()
	a, err := ts.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ts.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ts.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a.AccessToken == b.AccessToken || b.AccessToken != c.AccessToken || tn.tokenCalls.Load() != 2 {
		t.Errorf("Refresh did not force exactly one new token (%d calls)", tn.tokenCalls.Load())
	}
}

func TestTokenErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    TokenError
		msg     string
	}{
		{
			name: "401 invalid_client",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				w.Write([]byte(`{"error":"invalid_client","error_description":"Bad credentials"}`))
			},
			want: TokenError{StatusCode: 401, Code: "invalid_client", Description: "Bad credentials"},
			msg:  "HTTP 401 invalid_client: Bad credentials",
		},
		{
			name: "error description echoing the secret is scrubbed",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				w.Write([]byte(`{"error":"invalid_request","error_description":"bad secret ` + skSecret + `"}`))
			},
			want: TokenError{StatusCode: 400, Code: "invalid_request", Description: "bad secret [REDACTED]"},
			msg:  "HTTP 400 invalid_request: bad secret [REDACTED]",
		},
		{
			name: "HTML login page with 200",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.Write([]byte("<!DOCTYPE html><html><body>Login</body></html>"))
			},
			want: TokenError{StatusCode: 200, HTML: true},
			msg:  "HTTP 200: the token endpoint answered an HTML page, not a token — check the authenticationServer setting (it must be the uaa.url value)",
		},
		{
			name: "HTML 404 without content type",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/octet-stream")
				w.WriteHeader(http.StatusNotFound)
				w.Write([]byte("\n  <html>not found</html>"))
			},
			want: TokenError{StatusCode: 404, HTML: true},
			msg:  "HTTP 404: the token endpoint answered an HTML page, not a token — check the authenticationServer setting (it must be the uaa.url value)",
		},
		{
			name: "plain text 500",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(http.StatusInternalServerError)
				w.Write([]byte("upstream\n broken"))
			},
			want: TokenError{StatusCode: 500, Description: "upstream broken"},
			msg:  "HTTP 500: upstream broken",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn := newTenant(t)
			tn.tokenFail.Store(tt.handler)
			ts, _ := newTokens(t, tn)
			_, err := ts.Token(context.Background())
			var te *TokenError
			if !errors.As(err, &te) {
				t.Fatalf("error %T %v, want *TokenError", err, err)
			}
			tt.want.URL = tn.uaa.URL + "/oauth/token"
			if !reflect.DeepEqual(*te, tt.want) {
				t.Errorf("TokenError = %+v, want %+v", *te, tt.want)
			}
			if want := "get token from " + tt.want.URL + ": " + tt.msg; err.Error() != want {
				t.Errorf("Error() =\n%s\nwant\n%s", err, want)
			}
			if strings.Contains(err.Error(), skSecret) {
				t.Errorf("error leaks the secret")
			}
		})
	}
}

func TestTokenTransportErrorAndCancel(t *testing.T) {
	tn := newTenant(t)
	ts, _ := newTokens(t, tn)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ts.Token(ctx)
	var te *TokenError
	if !errors.As(err, &te) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want a *TokenError wrapping context.Canceled", err)
	}
	tn.uaa.Close()
	_, err = ts.Token(context.Background())
	if !errors.As(err, &te) || te.Err == nil || te.StatusCode != 0 {
		t.Fatalf("closed server: %#v, want a transport TokenError", err)
	}
	if !strings.HasPrefix(err.Error(), "get token from "+tn.settings.TokenURL()+": ") || strings.Contains(err.Error(), skSecret) {
		t.Errorf("Error() = %s", err)
	}
}

// testPKI is a CA, a server certificate for 127.0.0.1 and a client certificate, all PEM.
type testPKI struct {
	pool               *x509.CertPool
	serverCert         tls.Certificate
	clientPEM, keyPEM  string
	otherPEM, otherKey string // a client pair from another CA
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	serial := int64(0)
	issue := func(tmpl *x509.Certificate, parent *x509.Certificate, parentKey, key *ecdsa.PrivateKey) *x509.Certificate {
		serial++
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore = time.Now().Add(-time.Hour)
		tmpl.NotAfter = time.Now().Add(time.Hour)
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	pemOf := func(c *x509.Certificate, k *ecdsa.PrivateKey) (string, string) {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})),
			string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	}
	caTmpl := func(cn string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: cn}, IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	}
	caKey := newKey()
	ca := issue(caTmpl("test CA"), nil, nil, caKey)
	srvKey := newKey()
	srv := issue(&x509.Certificate{Subject: pkix.Name{CommonName: "127.0.0.1"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, ca, caKey, srvKey)
	cliKey := newKey()
	cli := issue(&x509.Certificate{Subject: pkix.Name{CommonName: skClientID},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, ca, caKey, cliKey)
	otherCAKey := newKey()
	otherCA := issue(caTmpl("other CA"), nil, nil, otherCAKey)
	otherKey := newKey()
	other := issue(&x509.Certificate{Subject: pkix.Name{CommonName: "intruder"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, otherCA, otherCAKey, otherKey)

	p := testPKI{pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	srvCertPEM, srvKeyPEM := pemOf(srv, srvKey)
	var err error
	if p.serverCert, err = tls.X509KeyPair([]byte(srvCertPEM), []byte(srvKeyPEM)); err != nil {
		t.Fatal(err)
	}
	p.clientPEM, p.keyPEM = pemOf(cli, cliKey)
	p.otherPEM, p.otherKey = pemOf(other, otherKey)
	return p
}

func TestTokenX509MutualTLS(t *testing.T) {
	pki := newTestPKI(t)
	calls := 0
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if r.Method != http.MethodPost || r.URL.Path != "/oauth/token" {
			t.Errorf("token request %s %s", r.Method, r.URL.Path)
		}
		if len(r.TLS.PeerCertificates) == 0 || r.TLS.PeerCertificates[0].Subject.CommonName != skClientID {
			t.Errorf("no client certificate")
		}
		_ = r.ParseForm()
		want := url.Values{"grant_type": {"client_credentials"}, "client_id": {skClientID}}
		if !reflect.DeepEqual(r.PostForm, want) {
			t.Errorf("form = %v, want %v (no secret)", r.PostForm, want)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "x509-token", "token_type": "bearer", "expires_in": 3600, "scope": "a.calm-api.hm.read"})
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pki.serverCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pki.pool}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)

	key := map[string]any{
		"endpoints": map[string]any{"Api": "https://t.eu10.alm.cloud.sap/api"},
		"uaa": map[string]any{"clientid": skClientID, "url": "https://s.authentication.eu10.hana.ondemand.com",
			"certurl": srv.URL, "credential-type": "x509", "certificate": pki.clientPEM, "key": pki.keyPEM},
	}
	data, _ := json.Marshal(key)
	s, _, err := ParseSettings(data)
	if err != nil {
		t.Fatal(err)
	}
	if !s.IsX509() || s.TokenURL() != srv.URL+"/oauth/token" {
		t.Fatalf("settings %+v, token url %s", s, s.TokenURL())
	}
	for _, f := range []string{"%v", "%+v", "%#v"} {
		if strings.Contains(sprintf(f, s), "PRIVATE KEY") {
			t.Errorf("%s prints the private key", f)
		}
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.pool}}}
	ts, err := NewTokenSource(s, hc)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ts.Token(context.Background())
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if tok.AccessToken != "x509-token" || !ts.HasScope("calm-api.hm.read") || calls != 1 {
		t.Errorf("token %q, scopes %q, calls %d", tok.AccessToken, ts.Scopes(), calls)
	}

	// The same server refuses a certificate from another CA.
	s.Certificate, s.Key = pki.otherPEM, Secret(pki.otherKey)
	ts2, err := NewTokenSource(s, hc)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ts2.Token(context.Background())
	var te *TokenError
	if !errors.As(err, &te) || te.Err == nil || strings.Contains(err.Error(), "PRIVATE") {
		t.Errorf("foreign certificate: %v, want a transport TokenError", err)
	}

	// Mismatched certificate and key are a settings problem.
	s.Key = Secret(pki.keyPEM)
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "certificate: certificate and key do not form a usable pair") {
		t.Errorf("Validate mismatched pair = %v", err)
	}
}

func sprintf(f string, v any) string { return fmt.Sprintf(f, v) }
