package calm

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ErrRepeatedPage means the server answered the next page with the same body as the previous
// one (it ignores offset): paging stops rather than delivering duplicates.
var ErrRepeatedPage = errors.New("server repeated the previous page (it seems to ignore offset)")

// ErrTooManyPages means paging went on for more pages than the total count allows (or past a
// hard cap): the server never ends.
var ErrTooManyPages = errors.New("too many pages (the server does not stop paging)")

// ErrIncompletePage is a page that cannot be reconciled with the total: empty (also {} or
// null) while x-total-count says more, or holding more rows than asked for after the first.
var ErrIncompletePage = errors.New("page cannot be reconciled with x-total-count")

// ErrTotalChanged is a total count that kept changing while a collection was paged.
var ErrTotalChanged = errors.New("x-total-count kept changing while paging")

// Problem is one thing wrong with settings.
type Problem struct {
	Field   string // e.g. "clientSecret"
	Where   string // where the value lives in the BTP service key, e.g. "uaa.clientsecret"
	Message string // what is wrong and what to do
}

// String renders "field: message (in the service key: where)".
func (p Problem) String() string {
	s := p.Field + ": " + p.Message
	if p.Where != "" {
		s += " (in the service key: " + p.Where + ")"
	}
	return s
}

// SettingsError lists every problem with the connector settings at once.
type SettingsError struct{ Problems []Problem }

// Error joins every problem as "field: message (in the service key: where)", separated by "; ".
func (e *SettingsError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return "invalid connector settings: " + strings.Join(parts, "; ")
}

// TokenError is a failure to get a token from the token endpoint. It never holds the client
// secret, the private key or a token.
type TokenError struct {
	StatusCode  int    // HTTP status of the token endpoint, 0 for a transport error
	Code        string // OAuth error code, e.g. invalid_client
	Description string // OAuth error_description (or a short plain-text body)
	HTML        bool   // the endpoint answered an HTML page
	URL         string // token URL (no credentials)
	Err         error  // transport error
}

func (e *TokenError) Error() string {
	var b strings.Builder
	b.WriteString("get token from " + e.URL + ": ")
	switch {
	case e.Err != nil && e.StatusCode == 0:
		b.WriteString(e.Err.Error())
		return b.String()
	case e.StatusCode != 0:
		fmt.Fprintf(&b, "HTTP %d", e.StatusCode)
	}
	if e.HTML {
		b.WriteString(": the token endpoint answered an HTML page, not a token — check the authenticationServer setting (it must be the uaa.url value)")
		return b.String()
	}
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Description != "" {
		b.WriteString(": " + e.Description)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *TokenError) Unwrap() error { return e.Err }

// APIError is every non-2xx answer of the Cloud ALM API (after retries).
type APIError struct {
	StatusCode    int
	Method, Path  string // path without host, e.g. /api/calm-metrics/v1/metrics
	CorrelationID string // x-correlationid, for SAP support (component SV-CLM-API)
	Message       string // SAP's message from the error body
	SAPMessage    string // sap-message header
	HTML          bool   // the body was an HTML page: not a Cloud ALM API response
	// NotData says why a 2xx body is not data (an error object, or JSON without the expected
	// top-level field): such an answer is retried like a 5xx and never taken as an empty page.
	NotData    string
	RetryAfter time.Duration
}

// htmlHint is what an HTML answer means, in the words of the setup.
const htmlHint = "not a Cloud ALM API response — check the URL setting (it must be the endpoints.Api value without /api)"

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: HTTP %d", e.Method, e.Path, e.StatusCode)
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" " + t)
	}
	switch {
	case e.HTML:
		b.WriteString(": " + htmlHint)
	case e.NotData != "":
		b.WriteString(": the answer is not data but " + e.NotData)
	case e.Message != "":
		b.WriteString(": " + e.Message)
	}
	if e.SAPMessage != "" {
		b.WriteString(" (sap-message: " + e.SAPMessage + ")")
	}
	if e.CorrelationID != "" {
		b.WriteString(" (x-correlationid " + e.CorrelationID + ")")
	}
	return b.String()
}
