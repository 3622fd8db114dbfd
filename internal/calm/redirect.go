package calm

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// maxRedirects bounds the same-origin redirects an API call follows.
const maxRedirects = 5

// RedirectError is returned when a server answers a request that carries a credential with a
// redirect the client does not follow: any redirect of the token request (its form holds the
// client secret), and an API redirect to another scheme, host or port (it would carry the
// bearer token there). It is never retried. See docs/security.md.
type RedirectError struct {
	From  string // scheme://host:port of the request
	To    string // scheme://host:port the Location points at (no path or query)
	Token bool   // the token request, which follows no redirect at all
}

func (e *RedirectError) Error() string {
	if e.Token {
		return fmt.Sprintf("the token endpoint %s redirects to %s; the token request carries the client credentials "+
			"and follows no redirect: set authenticationServer to the uaa.url of the service key", e.From, e.To)
	}
	return fmt.Sprintf("%s redirects to %s, another scheme, host or port; a request carrying the bearer token "+
		"follows redirects only on its own origin: set url to the endpoints.Api of the service key", e.From, e.To)
}

// origin is scheme://host:port with the default port filled in, lower case.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(strings.TrimSuffix(u.Hostname(), ".")) + ":" + port
}

// refuseTokenRedirect is the token client's CheckRedirect: the token request follows none.
func refuseTokenRedirect(req *http.Request, via []*http.Request) error {
	return &RedirectError{From: origin(via[0].URL), To: origin(req.URL), Token: true}
}

// sameOriginRedirects wraps a client's CheckRedirect so that a redirect to another scheme,
// host or port is refused before next (the caller's own policy, nil for Go's default limit)
// is asked. The client is copied; hc itself is not changed.
func sameOriginRedirects(hc *http.Client) *http.Client {
	next := hc.CheckRedirect
	c := *hc
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if from, to := origin(via[0].URL), origin(req.URL); from != to {
			return &RedirectError{From: from, To: to}
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		return nil
	}
	return &c
}

// isRedirectRefused reports whether err is (or wraps) a refused redirect.
func isRedirectRefused(err error) bool {
	var re *RedirectError
	return errors.As(err, &re)
}
