package testkit

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
)

// CheckingFront starts an HTTP front before target (stopped when the test ends) and returns its
// URL. Every request's body is read first and given to check: when check answers the request
// (returns true) it goes no further; otherwise it is passed on to target unchanged. The limits
// stand-ins (awstest.MotoServer.WithLimits, otlptest.Receiver.WithLimit) are built on it.
func CheckingFront(t testing.TB, target string, check func(w http.ResponseWriter, r *http.Request, body []byte) bool) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if check(w, r, body) {
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
