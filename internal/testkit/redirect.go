package testkit

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// RedirectingFront serves h on a loopback port, except that path answers code (a 307 or 308) to
// a trap on another port; the counter tells how many requests reached the trap. Both servers
// close when the test ends. The redirect tests of the token and API calls use it: a client
// secret or bearer token must never follow such a redirect.
func RedirectingFront(t testing.TB, h http.Handler, path string, code int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	trap := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(trap.Close)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == path {
			http.Redirect(w, r, trap.URL+path, code)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	return front, &hits
}
