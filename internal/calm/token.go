package calm

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/calm-collector/calm-collector/internal/transcript"
)

// DefaultTokenLifetime is assumed when a token response carries no expires_in: the token is
// used for an hour, then fetched again (XSUAA itself sends 43199 s).
const DefaultTokenLifetime = time.Hour

// maxRefreshMargin caps how long before expiry a token is refreshed; the margin is
// min(maxRefreshMargin, 10% of the token's lifetime).
const maxRefreshMargin = 5 * time.Minute

// TokenSource gets client-credentials tokens from XSUAA and caches them. Build it once and
// keep it (the Client does): a warm Lambda then reuses the token until shortly before it
// expires. It is safe for concurrent use.
type TokenSource struct {
	conf     *clientcredentials.Config
	hc       *http.Client // token endpoint client: timeouts, mTLS for x509, HTML guard
	base     context.Context
	tokenURL string
	secret   Secret // only to scrub it out of error text, should a server echo it
	logger   *slog.Logger
	now      func() time.Time

	mu        sync.Mutex
	tok       *oauth2.Token
	refreshAt time.Time
	scopes    []string
}

// NewTokenSource builds the token source for s. hc nil means a default client with timeouts
// (proxy from the environment). For x509 credentials the client's transport is cloned and
// given the client certificate for mutual TLS.
func NewTokenSource(s Settings, hc *http.Client) (*TokenSource, error) {
	if s.ClientID == "" {
		return nil, errors.New("new token source: clientId is empty")
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second, Transport: defaultTransport()}
	}
	rt := hc.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	conf := &clientcredentials.Config{
		ClientID: s.ClientID,
		TokenURL: s.TokenURL(),
		// Client ids contain '!' and '|': the header style URL-escapes them, XSUAA then
		// rejects the client. Send id and secret in the form body.
		AuthStyle: oauth2.AuthStyleInParams,
	}
	if s.IsX509() {
		cert, err := tls.X509KeyPair([]byte(s.Certificate), []byte(s.Key.Reveal()))
		if err != nil {
			return nil, fmt.Errorf("new token source: x509 certificate and key: %w", err)
		}
		tr, ok := rt.(*http.Transport)
		if !ok {
			return nil, fmt.Errorf("new token source: x509 credentials need an *http.Transport, the HTTP client has %T", rt)
		}
		tr = tr.Clone()
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		tr.TLSClientConfig.Certificates = []tls.Certificate{cert}
		rt = tr
	} else {
		conf.ClientSecret = s.ClientSecret.Reveal()
	}
	timeout := hc.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	// The token form carries the client secret: no redirect is followed (docs/security.md).
	tc := &http.Client{Transport: htmlGuard{next: rt}, Timeout: timeout, CheckRedirect: refuseTokenRedirect, Jar: hc.Jar}
	secret := s.ClientSecret
	if s.IsX509() {
		secret = s.Key
	}
	return &TokenSource{
		conf:     conf,
		hc:       tc,
		base:     context.WithValue(context.Background(), oauth2.HTTPClient, tc),
		tokenURL: s.TokenURL(),
		secret:   secret,
		logger:   slog.Default(),
		now:      time.Now,
	}, nil
}

// Token returns the cached token, or fetches a new one when there is none or it is close to
// expiry. ctx cancels the fetch.
func (t *TokenSource) Token(ctx context.Context) (*oauth2.Token, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok != nil && t.now().Before(t.refreshAt) {
		return t.tok, nil
	}
	return t.fetchLocked(ctx)
}

// Refresh fetches a new token whatever the cache holds (after an API 401).
func (t *TokenSource) Refresh(ctx context.Context) (*oauth2.Token, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.fetchLocked(ctx)
}

// Scopes returns the granted scopes of the current token: the token response's "scope", else
// the JWT's "scope" claim. Nil before the first token.
func (t *TokenSource) Scopes() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.scopes)
}

// HasScope reports whether a scope with the given suffix is granted, e.g. "calm-api.hm.read"
// matches "sap-calm!b123.calm-api.hm.read".
func (t *TokenSource) HasScope(suffix string) bool {
	for _, s := range t.Scopes() {
		if s == suffix || strings.HasSuffix(s, "."+suffix) {
			return true
		}
	}
	return false
}

func (t *TokenSource) fetchLocked(ctx context.Context) (*oauth2.Token, error) {
	// The oauth2 config is built once; the long-lived context carries the HTTP client.
	// Cancellation comes from the caller's ctx, which is given the same HTTP client.
	if ctx == nil {
		ctx = t.base
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, t.hc)
	start := t.now()
	tok, err := t.conf.Token(ctx)
	if err != nil {
		return nil, t.tokenError(err)
	}
	lifetime := DefaultTokenLifetime
	if tok.Expiry.IsZero() {
		// No expires_in: assume DefaultTokenLifetime and say so on the token.
		tok.Expiry = start.Add(DefaultTokenLifetime)
	} else {
		lifetime = time.Until(tok.Expiry)
	}
	expiry := start.Add(lifetime)
	margin := min(maxRefreshMargin, lifetime/10)
	t.tok = tok
	t.refreshAt = expiry.Add(-margin)
	t.scopes = scopesOf(tok)
	t.logger.Debug("got token", "token_url", t.tokenURL, "expires_in", lifetime.Round(time.Second), "scopes", len(t.scopes))
	return tok, nil
}

// tokenError turns whatever oauth2 returned into a *TokenError without the secret.
func (t *TokenSource) tokenError(err error) error {
	te := &TokenError{URL: t.tokenURL}
	var re *oauth2.RetrieveError
	var ha *htmlAnswer
	switch {
	case errors.As(err, &ha):
		te.StatusCode, te.HTML = ha.status, true
	case errors.As(err, &re):
		if re.Response != nil {
			te.StatusCode = re.Response.StatusCode
		}
		te.Code, te.Description = re.ErrorCode, re.ErrorDescription
		if te.Code == "" {
			te.Description = shortText(re.Body)
		}
	default:
		te.Err = err
	}
	te.Description = t.scrub(te.Description)
	if te.Err != nil && t.secret.IsSet() && strings.Contains(te.Err.Error(), t.secret.Reveal()) {
		te.Err = errors.New(t.scrub(te.Err.Error()))
	}
	return te
}

func (t *TokenSource) scrub(s string) string {
	if t.secret.IsSet() {
		s = strings.ReplaceAll(s, t.secret.Reveal(), redacted)
	}
	return s
}

// scopesOf reads the granted scopes: "scope" of the token response, else the JWT claim.
func scopesOf(tok *oauth2.Token) []string {
	if s, ok := tok.Extra("scope").(string); ok && strings.TrimSpace(s) != "" {
		return strings.Fields(s)
	}
	return jwtScopes(tok.AccessToken)
}

// jwtScopes reads what a JWT access token grants: its "scope" claim (transcript.ScopeClaim), a
// list or a space-separated string.
func jwtScopes(token string) []string {
	claim := transcript.ScopeClaim(token)
	var list []string
	if json.Unmarshal(claim, &list) == nil {
		return list
	}
	var one string
	if json.Unmarshal(claim, &one) == nil {
		return strings.Fields(one)
	}
	return nil
}

// htmlAnswer is returned by htmlGuard when the token endpoint answers an HTML page.
type htmlAnswer struct{ status int }

func (h *htmlAnswer) Error() string {
	return fmt.Sprintf("token endpoint answered an HTML page (HTTP %d)", h.status)
}

// htmlGuard turns an HTML answer of the token endpoint into an error: oauth2 would report a
// JSON syntax error and hide what happened.
type htmlGuard struct{ next http.RoundTripper }

func (g htmlGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := g.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	br := bufio.NewReaderSize(resp.Body, 512)
	resp.Body = struct {
		io.Reader
		io.Closer
	}{br, resp.Body}
	if looksHTML(resp.Header.Get("Content-Type"), peek(br)) {
		resp.Body.Close()
		return nil, &htmlAnswer{status: resp.StatusCode}
	}
	return resp, nil
}

func peek(br *bufio.Reader) []byte {
	b, _ := br.Peek(512)
	return b
}

// looksHTML reports whether a response is an HTML page (by type, or by its first byte). A body
// declared protobuf is never sniffed: its bytes may start with '<' (the logs API's pages).
func looksHTML(contentType string, head []byte) bool {
	switch mt, _, _ := mime.ParseMediaType(contentType); mt {
	case "text/html", "application/xhtml+xml":
		return true
	case "application/x-protobuf", "application/protobuf":
		return false
	}
	head = bytes.TrimLeft(head, " \t\r\n\ufeff")
	return len(head) > 0 && head[0] == '<'
}

// shortText is a bounded, single-line rendering of a plain-text body for error messages.
func shortText(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
