package collect

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
)

// counters are the HTTP requests of one monitor, filled in by Transport.
type counters struct {
	requests, retries, throttled atomic.Int64
	lastFailed                   atomic.Bool
}

type countersKey struct{}

func withCounters(ctx context.Context, c *counters) context.Context {
	return context.WithValue(ctx, countersKey{}, c)
}

// Transport wraps base (nil: http.DefaultTransport) so that the requests a monitor makes are
// counted in its summary: API requests (every attempt), throttled (429 answers) and retries
// (attempts that follow a failed one: 401, 429, 5xx or a transport error). Requests outside a
// run and token requests (no /api/ in the path) pass through uncounted. Give the calm client an HTTP client using it.
func Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return countingTransport{base}
}

type countingTransport struct{ base http.RoundTripper }

func (t countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c, _ := req.Context().Value(countersKey{}).(*counters)
	if c == nil || !strings.Contains(req.URL.Path, "/api/") {
		return t.base.RoundTrip(req)
	}
	c.requests.Add(1)
	if c.lastFailed.Load() {
		c.retries.Add(1)
	}
	resp, err := t.base.RoundTrip(req)
	failed := err != nil || resp.StatusCode == http.StatusUnauthorized ||
		resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		c.throttled.Add(1)
	}
	c.lastFailed.Store(failed)
	return resp, err
}
