package conntest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
)

// The token check: one client-credentials (or x509) token from the authentication server.

// Hints for token failures, in the words of the setup guide.
const (
	hintBadClient = "the client ID or client secret is wrong: copy uaa.clientid and uaa.clientsecret from the service key again " +
		"(the secret is shown only once, when the binding or key is created)"
	hintBadCert = "the client certificate was not accepted: copy uaa.certificate, uaa.key and uaa.certurl from the same x509 service key again " +
		"(the key is shown only once, when the binding or key is created)"
	hintTokenHTML = "the authentication server answered an HTML page: use uaa.url from the service key, without /oauth/token"
	hintToken404  = "the token endpoint was not found: the authentication server must be uaa.url from the service key " +
		"(https://<subdomain>.authentication.<region>.hana.ondemand.com), without /oauth/token"
	hintUnauthorizedClient = "this client may not use the client_credentials grant: use a service key of the SAP Cloud ALM API " +
		"service instance (plan standard), not of another service"
)

func (t *tester) checkToken(ctx context.Context) Check {
	switch {
	case t.noSettings != "":
		t.noToken = t.noSettings
		return skip(t.noSettings)
	case t.noAuthHost != "":
		t.noToken = "needs a token"
		return skip(t.noAuthHost)
	}
	ts, err := calm.NewTokenSource(t.settings, t.hc)
	if err != nil {
		t.noToken = "needs a token"
		return Check{Status: Fail, Detail: err.Error(), Hint: settingsHint}
	}
	if t.opts.Recorder != nil {
		ts.RecordTo(t.opts.Recorder)
	}
	tok, err := ts.Token(ctx)
	if err != nil {
		t.noToken = "needs a token"
		return t.tokenFailure(err)
	}
	t.tokens = ts
	t.scrub = append(t.scrub, tok.AccessToken, tok.RefreshToken)
	valid := "no expiry given"
	if !tok.Expiry.IsZero() {
		valid = "valid for " + time.Until(tok.Expiry).Round(time.Minute).String()
	}
	return Check{Status: Pass, Detail: fmt.Sprintf("got a %s token from %s (%s, %d scopes)",
		strings.ToLower(cmp.Or(tok.TokenType, "bearer")), t.settings.TokenURL(), valid, len(ts.Scopes()))}
}

// redirectFailure is the check for a refused credential redirect (see docs/security.md), if
// err is one.
func redirectFailure(err error) (Check, bool) {
	var re *calm.RedirectError
	if !errors.As(err, &re) {
		return Check{}, false
	}
	return Check{Status: Fail, Detail: re.Error(), Hint: "the server answered with a redirect, which a request carrying " +
		"credentials does not follow: use the uaa.url and endpoints.Api values of the service key exactly as they are"}, true
}

func (t *tester) tokenFailure(err error) Check {
	if c, ok := redirectFailure(err); ok {
		return c
	}
	var te *calm.TokenError
	if !errors.As(err, &te) {
		return Check{Status: Fail, Detail: err.Error(), Hint: hintToken404}
	}
	c := Check{Status: Fail, Detail: tokenDetail(te)}
	switch {
	case te.HTML:
		c.Hint = hintTokenHTML
	case te.StatusCode == http.StatusNotFound:
		c.Hint = hintToken404
	case te.Code == "unauthorized_client":
		c.Hint = hintUnauthorizedClient
	case te.Code == "invalid_client" || te.StatusCode == http.StatusUnauthorized || te.Code == "unauthorized":
		c.Hint = hintBadClient
		if t.settings.IsX509() {
			c.Hint = hintBadCert
		}
	case te.StatusCode == 0:
		c.Hint = fmt.Sprintf("the token endpoint %s did not answer: check authenticationServer (uaa.url from the service key) "+
			"and the collector's outbound internet access", te.URL)
	case te.StatusCode >= 500:
		c.Hint = "the authentication server had an error: try again in a few minutes; if it persists, check the SAP BTP status page"
	default:
		c.Hint = "the authentication server refused the request: check authenticationServer (uaa.url), clientId (uaa.clientid) " +
			"and clientSecret (uaa.clientsecret) against the service key"
	}
	return c
}

// tokenDetail is a short "HTTP 401 invalid_client: Bad credentials" line.
func tokenDetail(te *calm.TokenError) string {
	switch {
	case te.HTML:
		return fmt.Sprintf("HTTP %d from %s: an HTML page, not a token response", te.StatusCode, te.URL)
	case te.StatusCode == 0 && te.Err != nil:
		return "POST " + te.URL + ": " + errText(te.Err)
	}
	d := fmt.Sprintf("HTTP %d", te.StatusCode)
	if te.Code != "" {
		d += " " + te.Code
	}
	if te.Description != "" {
		d += ": " + te.Description
	}
	return d + " from " + te.URL
}
