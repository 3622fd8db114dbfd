package conntest

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/monitor"
)

// ---- token

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

// ---- scopes

// need is one scope the enabled monitors need, with who needs it.
type need struct {
	scope     string
	confirmed bool
	by        []string
}

// needs lists the scopes the enabled monitors and the api check need, confirmed ones first.
func (t *tester) needs() []need {
	var ns []need
	add := func(scope string, confirmed bool, by string) {
		if i := slices.IndexFunc(ns, func(n need) bool { return n.scope == scope }); i >= 0 {
			ns[i].by = append(ns[i].by, by)
			ns[i].confirmed = ns[i].confirmed || confirmed
			return
		}
		ns = append(ns, need{scope: scope, confirmed: confirmed, by: []string{by}})
	}
	add(monitor.AnalyticsScope, true, "api check and service discovery")
	for _, id := range t.opts.Monitors {
		m, ok := monitor.Lookup(id)
		if !ok {
			continue
		}
		if m.IsMetrics() {
			add(monitor.MetricsScope, true, id)
		}
		add(m.Scope, m.ScopeConfirmed, id)
	}
	slices.SortStableFunc(ns, func(a, b need) int {
		switch {
		case a.confirmed == b.confirmed:
			return 0
		case a.confirmed:
			return -1
		}
		return 1
	})
	return ns
}

func (t *tester) checkScopes(context.Context) Check {
	if t.noToken != "" {
		return skip("needs a token")
	}
	var granted []string
	for _, s := range t.tokens.Scopes() {
		if i := strings.Index(s, "calm-api."); i >= 0 {
			granted = append(granted, s[i:])
		}
	}
	slices.Sort(granted)
	granted = slices.Compact(granted)
	t.granted = granted

	var missing, missingLines, unconfirmed []string
	for _, n := range t.needs() {
		if slices.Contains(granted, n.scope) {
			continue
		}
		label := fmt.Sprintf("%s (%s)", n.scope, strings.Join(n.by, ", "))
		if n.confirmed {
			missing = append(missing, label)
			missingLines = append(missingLines, authority(n.scope))
		} else {
			unconfirmed = append(unconfirmed, label)
		}
	}

	grantedText := "granted: none"
	if len(granted) > 0 {
		grantedText = "granted: " + strings.Join(granted, ", ")
	}
	var notes []string
	if len(unconfirmed) > 0 {
		notes = append(notes, "not granted, but unconfirmed (the monitor probe decides): "+strings.Join(unconfirmed, ", "))
	}
	if len(missing) > 0 && t.opts.Auto && t.analyticsGranted() && len(t.autoSkipped()) < len(t.opts.Monitors) {
		// auto collects what the token allows: the rest is a warning with the lines to add.
		detail := "auto skips " + strings.Join(t.autoSkipped(), ", ") + ": missing " + strings.Join(missing, ", ") + "; " + grantedText
		if len(notes) > 0 {
			detail += "; " + strings.Join(notes, "; ")
		}
		return Check{Status: Warn, Detail: detail, Missing: missingLines,
			Hint: "to collect the skipped monitors too, " + t.scopeHint(granted)}
	}
	if len(missing) > 0 {
		detail := "missing " + strings.Join(missing, ", ") + "; " + grantedText
		if len(notes) > 0 {
			detail += "; " + strings.Join(notes, "; ")
		}
		return Check{Status: Fail, Detail: detail, Missing: missingLines, Hint: t.scopeHint(granted)}
	}
	if len(notes) > 0 {
		return Check{Status: Warn, Detail: grantedText + "; " + strings.Join(notes, "; ")}
	}
	return Check{Status: Pass, Detail: grantedText + "; covers " + strings.Join(t.opts.Monitors, ", ")}
}

// analyticsGranted reports whether the token has the scope the api check needs, which no
// monitor selection can do without.
func (t *tester) analyticsGranted() bool { return slices.Contains(t.granted, monitor.AnalyticsScope) }

// autoLacks returns the confirmed scope the token lacks for a monitor, as a collection's "auto"
// would judge it ("" when it would collect the monitor). Unconfirmed scopes are left to the probe.
func (t *tester) autoLacks(m monitor.Monitor) string {
	if m.ScopeConfirmed && !slices.Contains(t.granted, m.Scope) {
		return m.Scope
	}
	if m.IsMetrics() && !slices.Contains(t.granted, monitor.MetricsScope) {
		return monitor.MetricsScope
	}
	return ""
}

// autoSkipped lists the enabled monitors that "auto" would skip for a missing scope.
func (t *tester) autoSkipped() []string {
	var ids []string
	for _, id := range t.opts.Monitors {
		if m, ok := monitor.Lookup(id); ok && t.autoLacks(m) != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// scopeHint says how to grant the missing scopes: the service instance parameters (with every
// authority the collector needs, since an update replaces the list), then a new key.
func (t *tester) scopeHint(granted []string, extra ...string) string {
	var auths []string
	for _, e := range extra {
		auths = append(auths, authority(e))
	}
	for _, n := range t.needs() {
		if n.confirmed || slices.Contains(granted, n.scope) {
			auths = append(auths, authority(n.scope))
		}
	}
	for _, g := range granted {
		auths = append(auths, authority(g))
	}
	slices.Sort(auths)
	auths = slices.Compact(auths)
	params, _ := json.Marshal(map[string]any{"xs-security": map[string]any{
		"xsappname":   xsappname(t.settings.ClientID),
		"authorities": auths,
	}})
	return "add the missing authorities to the SAP Cloud ALM API service instance in the SAP BTP cockpit " +
		"(Instances → Update → parameters), then create a new service key or binding and store it here " +
		"(a token carries only the scopes granted when its key was created). Parameters: " + string(params)
}

// xsappname guesses the service instance's xsappname from the client id
// ("sb-<xsappname>!b123|sapcloudalm!b456"), for the parameters to paste.
func xsappname(clientID string) string {
	first, _, _ := strings.Cut(clientID, "|")
	name, ok := strings.CutPrefix(first, "sb-")
	if !ok {
		return "calm-collector"
	}
	name, _, _ = strings.Cut(name, "!")
	if name == "" {
		return "calm-collector"
	}
	return name
}

// ---- api

const (
	hintAPIHTML = "not a Cloud ALM API response — check the URL setting (endpoints.Api without /api)"
	// hintAPIUnavailable is the hint of a 5xx HTML page.
	hintAPIUnavailable = "Cloud ALM is unavailable (a 5xx maintenance or error page): try again later; the settings are not at fault"
	hintAPI404         = "the Cloud ALM API path was not found — check the URL setting (endpoints.Api without /api; a doubled /api/api answers 404)"
	hintAPI401         = "the Cloud ALM API refused the token: url and authenticationServer must come from the same service key " +
		"(the same Cloud ALM tenant)"
)

func (t *tester) checkAPI(ctx context.Context) Check {
	switch {
	case t.noToken != "":
		t.noAPI = "needs a token"
		return skip("needs a token")
	case t.noAPIHost != "":
		t.noAPI = t.noAPIHost
		return skip(t.noAPIHost)
	}
	c, err := calm.New(t.settings, calm.Options{
		HTTPClient: t.hc,
		Tokens:     t.tokens,
		// 429, 5xx and error bodies are retried within the check's time limit, honouring
		// Retry-After (the client never waits past the deadline): weather does not fail a test.
		MaxRetries: 2,
		PageSize:   1,
		UserAgent:  "calm-collector-conntest",
	})
	if err != nil {
		t.noAPI = "needs an API client"
		return Check{Status: Fail, Detail: err.Error(), Hint: settingsHint}
	}
	t.client = c
	providers, err := c.Providers(ctx)
	if err != nil {
		check := t.apiFailure(err, monitor.AnalyticsScope, "api")
		// A missing analytics scope does not stop the monitor probes: they use other scopes.
		if len(check.Missing) == 0 {
			t.noAPI = "needs a working API (the api check failed)"
		}
		return check
	}
	names := make([]string, 0, len(providers))
	for _, p := range providers {
		names = append(names, p.Name)
	}
	detail := fmt.Sprintf("GET %s/calm-analytics/v1/analytics/providers: %d providers", t.settings.APIBase(), len(providers))
	if len(names) > 0 {
		if len(names) > 6 {
			names = append(names[:6], "…")
		}
		detail += " (" + strings.Join(names, ", ") + ")"
	}
	return Check{Status: Pass, Detail: detail}
}

// apiFailure turns an API error into a failed check with the hint for its kind. scope is the
// scope a 403 points at ("" when none is known); who names the caller for the message.
func (t *tester) apiFailure(err error, scope, who string) Check {
	if c, ok := redirectFailure(err); ok {
		return c
	}
	var ae *calm.APIError
	if !errors.As(err, &ae) {
		return Check{Status: Fail, Detail: errText(err), Hint: fmt.Sprintf(
			"the Cloud ALM API at %s did not answer: check the url setting (endpoints.Api without /api) and the collector's outbound internet access",
			t.settings.URL)}
	}
	c := Check{Status: Fail, Detail: ae.Error()}
	switch {
	case ae.HTML && ae.StatusCode >= 500:
		// A 5xx HTML page is a maintenance or error page of a host that is there: not a wrong URL.
		c.Detail = fmt.Sprintf("Cloud ALM unavailable: %s %s answered HTTP %d with an HTML page (after retries)", ae.Method, ae.Path, ae.StatusCode)
		if ae.CorrelationID != "" {
			c.Detail += " (x-correlationid " + ae.CorrelationID + ")"
		}
		c.Hint = hintAPIUnavailable
	case ae.HTML:
		c.Hint = hintAPIHTML
	case ae.StatusCode == http.StatusNotFound:
		c.Hint = hintAPI404
	case ae.StatusCode == http.StatusUnauthorized:
		c.Hint = hintAPI401
	case ae.StatusCode == http.StatusForbidden && scope != "":
		c.Missing = []string{authority(scope)}
		c.Hint = fmt.Sprintf("the service instance lacks the authority %s (needed by %s): ", authority(scope), who) + t.scopeHint(t.granted, scope)
	case ae.StatusCode == http.StatusForbidden:
		c.Hint = fmt.Sprintf("Cloud ALM refused %s (HTTP 403): the service instance may lack the authority this monitor needs; "+
			"no scope is published for it, so check the monitor's setup guide and the instance's authorities", who)
	case ae.StatusCode == http.StatusTooManyRequests || ae.StatusCode >= 500:
		c.Hint = "Cloud ALM is busy or had an error: try again in a few minutes; if it persists, open an SAP incident on component SV-CLM-API"
		if ae.CorrelationID != "" {
			c.Hint += " quoting x-correlationid " + ae.CorrelationID
		}
	default:
		c.Hint = "Cloud ALM rejected the request; the message above says why"
		if ae.CorrelationID != "" {
			c.Hint += " (for SAP support, component SV-CLM-API: x-correlationid " + ae.CorrelationID + ")"
		}
	}
	return c
}

// ---- monitors

// probeResolution is the bucket of the probe queries and probeLag how far behind now the probe
// window ends, as the collector's defaults.
const (
	probeResolution = 5 * time.Minute
	probeLag        = 2 * time.Minute
	eventsLookback  = 24 * time.Hour
)

func (t *tester) checkMonitor(ctx context.Context, id string) Check {
	m, ok := monitor.Lookup(id)
	if !ok {
		return Check{Status: Fail, Detail: "unknown monitor " + id, Hint: "enable only known monitors: " + strings.Join(monitor.IDs(), ", ")}
	}
	switch {
	case t.noToken != "":
		return skip("needs a token")
	case t.noAPI != "":
		return skip(t.noAPI)
	case t.client == nil:
		return skip("needs an API client")
	case t.opts.Auto && t.granted != nil && t.autoLacks(m) != "":
		return skip("auto skips it: the token lacks " + t.autoLacks(m) + " (see the scopes check)")
	}
	switch m.API {
	case monitor.Events:
		return t.probeEvents(ctx, m)
	case monitor.Logs:
		return t.probeLogs(ctx, m)
	}
	return t.probeMetrics(ctx, m)
}

func (t *tester) probeMetrics(ctx context.Context, m monitor.Monitor) Check {
	to := t.opts.Now().UTC().Add(-probeLag).Truncate(probeResolution)
	from := to.Add(-probeResolution)
	window := from.Format("2006-01-02 15:04") + "–" + to.Format("15:04") + " UTC"
	q := calm.MetricsQuery{Provider: m.ID, From: from, To: to, Resolution: "5Mi", PageSize: 1}
	q.Dimensions, q.Metrics = m.Columns() // calm-metrics may require both: ask as the collector does
	for page, err := range t.client.Metrics(ctx, q) {
		if err != nil {
			return t.monitorFailure(err, m)
		}
		if page.Total == 0 && page.Points == 0 {
			return Check{Status: Pass, Detail: fmt.Sprintf("no data points in %s (the API answered; the monitor may not be active for any service)", window)}
		}
		t.probed = append(t.probed, probed{q: q, points: max(page.Total, page.Points)})
		return Check{Status: Pass, Detail: fmt.Sprintf("%d data points in %s", max(page.Total, page.Points), window)}
	}
	return Check{Status: Pass, Detail: fmt.Sprintf("no data points in %s (the API answered; the monitor may not be active for any service)", window)}
}

func (t *tester) probeEvents(ctx context.Context, m monitor.Monitor) Check {
	to := t.opts.Now().UTC()
	from := to.Add(-eventsLookback)
	q := calm.EventsQuery{From: from, To: to, PageSize: 1}
	for _, err := range t.client.StatusEvents(ctx, q) {
		if err != nil {
			return t.monitorFailure(err, m)
		}
		return Check{Status: Pass, Detail: "status events answered: at least one event in the last 24 h"}
	}
	return Check{Status: Pass, Detail: "status events answered: no events in the last 24 h"}
}

// probeLogs asks for the last window's log lines of the first service the provider lists: the
// logs API needs a service id.
func (t *tester) probeLogs(ctx context.Context, m monitor.Monitor) Check {
	services, err := t.client.Services(ctx, m.Provider)
	if err != nil {
		return t.apiFailure(err, monitor.AnalyticsScope, "monitor "+m.ID+" service discovery")
	}
	if len(services) == 0 {
		return Check{Status: Pass, Detail: fmt.Sprintf("no services listed by %s: no logs to probe", m.Provider)}
	}
	to := t.opts.Now().UTC().Add(-probeLag).Truncate(probeResolution)
	from := to.Add(-probeResolution)
	window := from.Format("2006-01-02 15:04") + "–" + to.Format("15:04") + " UTC"
	s := services[0]
	for page, err := range t.client.Logs(ctx, calm.LogsQuery{ServiceID: s.ID, From: from, To: to, PageSize: 1, Provider: m.LogsProvider}) {
		if err != nil {
			return t.monitorFailure(err, m)
		}
		return Check{Status: Pass, Detail: fmt.Sprintf("%d log records of %s in %s", max(page.Total, page.Records), s.Name, window)}
	}
	return Check{Status: Pass, Detail: fmt.Sprintf("no log records of %s in %s (the API answered)", s.Name, window)}
}

func (t *tester) monitorFailure(err error, m monitor.Monitor) Check {
	scope := m.Scope
	var ae *calm.APIError
	if errors.As(err, &ae) && ae.StatusCode == http.StatusForbidden && m.IsMetrics() && t.tokens != nil && !t.tokens.HasScope(monitor.MetricsScope) {
		scope = monitor.MetricsScope
	}
	c := t.apiFailure(err, scope, "monitor "+m.ID)
	if errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound && !m.ScopeConfirmed {
		c.Hint = "this tenant does not offer the " + m.ID + " data (HTTP 404 for an unconfirmed monitor): disable it, or " + hintAPI404
	}
	return c
}
