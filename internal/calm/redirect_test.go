package calm

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// elsewhere is a server a hostile redirect points at; it records what reached it.
type elsewhere struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  []string // method path, Authorization, body of every request
	hits int
}

func newElsewhere(t *testing.T) *elsewhere {
	e := &elsewhere{}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		e.mu.Lock()
		e.hits++
		e.got = append(e.got, r.Method+" "+r.URL.Path+" auth="+r.Header.Get("Authorization")+" form="+r.PostForm.Encode())
		e.mu.Unlock()
		writeJSON(w, -1, []byte(`{"access_token":"stolen","token_type":"bearer"}`))
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *elsewhere) requests() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.got...)
}

// redirectTo answers status with Location target.
func redirectTo(status int, target string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", target)
		w.WriteHeader(status)
	}
}

// sameHostOtherName is u with the host 127.0.0.1 spelled "localhost": the same listener under
// another host name.
func sameHostOtherName(u string) string { return strings.Replace(u, "127.0.0.1", "localhost", 1) }

func TestTokenRequestFollowsNoRedirect(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		for name, target := range map[string]func(tn *tenant, e *elsewhere) string{
			"other port":  func(_ *tenant, e *elsewhere) string { return e.srv.URL + "/oauth/token" },
			"other name":  func(tn *tenant, _ *elsewhere) string { return sameHostOtherName(tn.uaa.URL) + "/oauth/token" },
			"same origin": func(tn *tenant, _ *elsewhere) string { return tn.uaa.URL + "/oauth/token?again=1" },
		} {
			t.Run(name+"/"+http.StatusText(status), func(t *testing.T) {
				tn := newTenant(t)
				e := newElsewhere(t)
				var hits int
				var mu sync.Mutex
				tn.tokenFail.Store(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					mu.Lock()
					hits++
					mu.Unlock()
					redirectTo(status, target(tn, e))(w, r)
				}))
				c := tn.client(nil)
				_, err := c.Providers(context.Background())
				var re *RedirectError
				if !errors.As(err, &re) || !re.Token {
					t.Fatalf("err = %v, want a token *RedirectError", err)
				}
				if got := e.requests(); len(got) != 0 {
					t.Errorf("the redirect target was contacted: %q", got)
				}
				if hits != 1 {
					t.Errorf("token endpoint asked %d times, want once (a refused redirect is not retried)", hits)
				}
				for _, s := range []string{err.Error(), tn.logs.String()} {
					if strings.Contains(s, skSecret) {
						t.Errorf("secret in %q", s)
					}
				}
				if !strings.Contains(err.Error(), "follows no redirect") || !strings.Contains(err.Error(), "authenticationServer") {
					t.Errorf("error does not say what happened and what to do: %v", err)
				}
			})
		}
	}
}

func TestAPIRedirectStaysOnItsOrigin(t *testing.T) {
	for name, target := range map[string]func(tn *tenant, e *elsewhere) string{
		"other port": func(_ *tenant, e *elsewhere) string { return e.srv.URL + "/x" },
		"other name": func(tn *tenant, _ *elsewhere) string { return sameHostOtherName(tn.api.URL) + "/x" },
		"https":      func(_ *tenant, e *elsewhere) string { return strings.Replace(e.srv.URL, "http:", "https:", 1) + "/x" },
	} {
		t.Run(name, func(t *testing.T) {
			tn := newTenant(t)
			e := newElsewhere(t)
			var seenOther []string
			tn.mux.HandleFunc("/x", func(w http.ResponseWriter, r *http.Request) {
				// "other name" lands on the tenant's own listener: record that it did.
				seenOther = append(seenOther, r.Host+" auth="+r.Header.Get("Authorization"))
			})
			tn.mux.HandleFunc("/api/calm-analytics/v1/analytics/providers", redirectTo(307, target(tn, e)))
			c := tn.client(nil)
			_, err := c.Providers(context.Background())
			var re *RedirectError
			if !errors.As(err, &re) || re.Token {
				t.Fatalf("err = %v, want an API *RedirectError", err)
			}
			if got := e.requests(); len(got) != 0 || len(seenOther) != 0 {
				t.Errorf("the redirect target was contacted: %q %q", got, seenOther)
			}
			if st := c.Stats(); st.Requests != 1 || st.Retries != 0 {
				t.Errorf("stats %+v: a refused redirect must not be retried", st)
			}
			if strings.Contains(err.Error(), tn.token()) {
				t.Errorf("token in error %v", err)
			}
		})
	}
}

func TestAPIRedirectFromHTTPSToHTTPRefused(t *testing.T) {
	tn := newTenant(t)
	e := newElsewhere(t)
	api := httptest.NewTLSServer(redirectTo(308, e.srv.URL+"/api/calm-analytics/v1/analytics/providers"))
	t.Cleanup(api.Close)
	tn.settings.URL = api.URL
	c := tn.client(func(o *Options) { o.HTTPClient = api.Client() })
	_, err := c.Providers(context.Background())
	var re *RedirectError
	if !errors.As(err, &re) || !strings.HasPrefix(re.To, "http://") || !strings.HasPrefix(re.From, "https://") {
		t.Fatalf("err = %v, want a *RedirectError from https to http", err)
	}
	if got := e.requests(); len(got) != 0 {
		t.Errorf("the bearer token followed the redirect to plain http: %q", got)
	}
}

func TestAPIRedirectOnItsOriginFollowed(t *testing.T) {
	tn := newTenant(t)
	tn.mux.HandleFunc("/api/calm-analytics/v1/analytics/providers", redirectTo(307, "/api/moved"))
	tn.mux.HandleFunc("/api/moved", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, -1, []byte(`[{"name":"HM_ANALYTICS_DP","version":["v1"]}]`))
	})
	ps, err := tn.client(nil).Providers(context.Background())
	if err != nil || len(ps) != 1 || ps[0].Name != "HM_ANALYTICS_DP" {
		t.Fatalf("providers = %+v, %v; a redirect on the same origin must be followed", ps, err)
	}
}
