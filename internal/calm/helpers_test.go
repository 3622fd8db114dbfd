package calm

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tenant is a fake XSUAA + Cloud ALM pair on loopback. The token endpoint checks the exact
// request; API handlers are registered on mux and get the current token checked first.
type tenant struct {
	t        testing.TB
	uaa, api *httptest.Server
	mux      *http.ServeMux
	settings Settings
	logs     *bytes.Buffer

	tokenCalls atomic.Int32
	expiresIn  atomic.Int64 // 0: omit expires_in
	scope      atomic.Value // string; "" omits scope
	tokenFail  atomic.Value // http.HandlerFunc answering instead of a token, or nil
	mu         sync.Mutex
	current    string // the last token handed out
}

func newTenant(t testing.TB) *tenant {
	t.Helper()
	tn := &tenant{t: t, mux: http.NewServeMux(), logs: new(bytes.Buffer)}
	tn.expiresIn.Store(43199)
	tn.scope.Store("uaa.resource sapcloudalm!b456.calm-api.hm.read sapcloudalm!b456.calm-api.metrics.read")
	tn.tokenFail.Store(http.HandlerFunc(nil))
	tn.uaa = httptest.NewServer(http.HandlerFunc(tn.serveToken))
	t.Cleanup(tn.uaa.Close)
	tn.api = httptest.NewServer(http.HandlerFunc(tn.serveAPI))
	t.Cleanup(tn.api.Close)
	tn.settings = Settings{
		Name: "test", URL: tn.api.URL, AuthenticationServer: tn.uaa.URL,
		ClientID: skClientID, ClientSecret: skSecret, CredentialType: CredentialBindingSecret,
	}
	return tn
}

// fakeJWT builds an unsigned JWT-shaped token whose payload carries claims.
func fakeJWT(claims map[string]any) string {
	b, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." + enc.EncodeToString(b) + ".c2ln"
}

func (tn *tenant) serveToken(w http.ResponseWriter, r *http.Request) {
	t := tn.t
	if r.Method != http.MethodPost || r.URL.Path != "/oauth/token" {
		t.Errorf("token request %s %s, want POST /oauth/token", r.Method, r.URL.Path)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("token request Content-Type = %q", ct)
	}
	if h := r.Header.Get("Authorization"); h != "" {
		t.Errorf("token request has an Authorization header; id and secret must be in the form")
	}
	if err := r.ParseForm(); err != nil {
		t.Errorf("token form: %v", err)
	}
	want := url.Values{"grant_type": {"client_credentials"}, "client_id": {skClientID}, "client_secret": {skSecret}}
	if got := r.PostForm; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("token form = %v, want %v", got, want)
	}
	if h, _ := tn.tokenFail.Load().(http.HandlerFunc); h != nil {
		h(w, r)
		return
	}
	tn.writeToken(w)
}

func (tn *tenant) writeToken(w http.ResponseWriter) {
	n := tn.tokenCalls.Add(1)
	tok := fakeJWT(map[string]any{"jti": fmt.Sprint("t", n), "scope": []string{"sapcloudalm!b456.calm-api.jwt.read"}})
	tn.mu.Lock()
	tn.current = tok
	tn.mu.Unlock()
	body := map[string]any{"access_token": tok, "token_type": "bearer", "jti": fmt.Sprint("t", n)}
	if e := tn.expiresIn.Load(); e != 0 {
		body["expires_in"] = e
	}
	if s := tn.scope.Load().(string); s != "" {
		body["scope"] = s
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_ = json.NewEncoder(w).Encode(body)
}

func (tn *tenant) token() string {
	tn.mu.Lock()
	defer tn.mu.Unlock()
	return tn.current
}

func (tn *tenant) serveAPI(w http.ResponseWriter, r *http.Request) {
	if got, want := r.Header.Get("Authorization"), "Bearer "+tn.token(); got != want {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"invalid_token","error_description":"token expired"}`))
		return
	}
	want := "application/json"
	if r.URL.Query().Get("format") == FormatBinary {
		want = "application/x-protobuf, application/json;q=0.5"
	}
	if got := r.Header.Get("Accept"); got != want {
		tn.t.Errorf("Accept = %q, want %q", got, want)
	}
	if got := r.Header.Get("User-Agent"); got == "" {
		tn.t.Errorf("no User-Agent")
	}
	tn.mux.ServeHTTP(w, r)
}

// client builds a client with tiny backoffs, logging into tn.logs.
func (tn *tenant) client(edit func(o *Options)) *Client {
	tn.t.Helper()
	o := Options{
		BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(tn.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&o)
	}
	c, err := New(tn.settings, o)
	if err != nil {
		tn.t.Fatalf("New: %v", err)
	}
	c.SetBinary(false) // the pager tests serve OTLP JSON test data; format_test.go asks for binary
	return c
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeJSON answers body with a JSON content type and optional x-total-count.
func writeJSON(w http.ResponseWriter, total int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	if total >= 0 {
		w.Header().Set("X-Total-Count", fmt.Sprint(total))
	}
	w.Write(body)
}

// whole is a fetchAnswer whose answers begin once they are whole: f does both phases at once.
func whole[T any](f func(context.Context, int) (answer[T], error)) fetchAnswer[T] {
	return func(ctx context.Context, offset int) (begun[T], error) {
		a, err := f(ctx, offset)
		if err != nil {
			return begun[T]{}, err
		}
		return ready(a), nil
	}
}
