package conntest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/monitor"
)

// The api check (one small call to Cloud ALM) and the probe of each enabled monitor.

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
		Recorder:   t.opts.Recorder,
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

// probeResolution is the bucket of the probe queries and probeLag how far behind now the probe
// window ends, as the collector's defaults.
const (
	probeResolution = 5 * time.Minute
	probeLag        = 2 * time.Minute
	eventsLookback  = 24 * time.Hour
)

// lastWindow is the last window a probe asks for, as the collector's defaults would collect it.
func (t *tester) lastWindow() (from, to time.Time) {
	to = t.opts.Now().UTC().Add(-probeLag).Truncate(probeResolution)
	return to.Add(-probeResolution), to
}

// windowText writes a window as "2006-01-02 15:04–15:04 UTC".
func windowText(from, to time.Time) string {
	return from.Format("2006-01-02 15:04") + "–" + to.Format("15:04") + " UTC"
}

// apiSkip is why a check that calls the API after the api check cannot run: no token, the api
// check failed, or no client; "" when it can.
func (t *tester) apiSkip() string {
	switch {
	case t.noToken != "":
		return "needs a token"
	case t.noAPI != "":
		return t.noAPI
	case t.client == nil:
		return "needs an API client"
	}
	return ""
}

// enabled returns the enabled monitors that the table knows, in order.
func (t *tester) enabled() []monitor.Monitor {
	var ms []monitor.Monitor
	for _, id := range t.opts.Monitors {
		if m, ok := t.table.Lookup(id); ok {
			ms = append(ms, m)
		}
	}
	return ms
}

// firstEnabled returns the first enabled monitor for which want holds; its ID is "" when there
// is none.
func (t *tester) firstEnabled(want func(monitor.Monitor) bool) monitor.Monitor {
	for _, m := range t.enabled() {
		if want(m) {
			return m
		}
	}
	return monitor.Monitor{}
}

func (t *tester) checkMonitor(ctx context.Context, id string) Check {
	m, ok := t.table.Lookup(id)
	if !ok {
		return Check{Status: Fail, Detail: "unknown monitor " + id, Hint: "enable only known monitors: " + strings.Join(t.table.IDs(), ", ")}
	}
	if why := t.apiSkip(); why != "" {
		return skip(why)
	}
	if t.opts.Auto && t.granted != nil && t.autoLacks(m) != "" {
		return skip("auto skips it: the token lacks " + t.autoLacks(m) + " (see the scopes check)")
	}
	switch m.API {
	case monitor.Events:
		return t.probeEvents(ctx, m)
	case monitor.Logs:
		return t.probeLogs(ctx, m)
	case monitor.Analytics:
		return t.probeAnalytics(ctx, m)
	case monitor.Traces:
		return t.probeTraces(ctx, m)
	}
	return t.probeMetrics(ctx, m)
}

func (t *tester) probeMetrics(ctx context.Context, m monitor.Monitor) Check {
	from, to := t.lastWindow()
	window := windowText(from, to)
	q := calm.MetricsQuery{Provider: m.ID, From: from, To: to, Resolution: "5Mi", PageSize: 1}
	q.Dimensions, q.Metrics = m.Columns() // calm-metrics may require both: ask as the collector does
	if m.MaxServices > 0 {
		return t.probeBatches(ctx, m, q, window)
	}
	points, err := t.probeQuery(ctx, q)
	if err != nil {
		return t.monitorFailure(err, m)
	}
	if points == 0 {
		return Check{Status: Pass, Detail: fmt.Sprintf("no data points in %s (the API answered; the monitor may not be active for any service)", window)}
	}
	return Check{Status: Pass, Detail: fmt.Sprintf("%d data points in %s", points, window)}
}

// probeBatches probes a monitor whose queries name at most MaxServices services as collection
// reads it: the services its provider lists, in batches within the limit. A tenant may refuse a
// query naming no service (428 "At most 5 services or systems allowed in scope").
func (t *tester) probeBatches(ctx context.Context, m monitor.Monitor, q calm.MetricsQuery, window string) Check {
	services, err := t.client.Services(ctx, m.Provider)
	if err != nil {
		return t.apiFailure(err, monitor.AnalyticsScope, "monitor "+m.ID+" service discovery")
	}
	if len(services) == 0 {
		return Check{Status: Pass, Detail: fmt.Sprintf("no services listed by %s: nothing to collect", m.Provider)}
	}
	points, batches := 0, 0
	for start := 0; start < len(services); start += m.MaxServices {
		bq := q
		bq.ServiceIDs = nil
		for _, s := range services[start:min(start+m.MaxServices, len(services))] {
			bq.ServiceIDs = append(bq.ServiceIDs, s.ID)
		}
		n, err := t.probeQuery(ctx, bq)
		if err != nil {
			return t.monitorFailure(fmt.Errorf("services %d-%d of %d: %w", start+1, start+len(bq.ServiceIDs), len(services), err), m)
		}
		points += n
		batches++
	}
	return Check{Status: Pass, Detail: fmt.Sprintf("%d data points in %s from %d services of %s, asked in %d queries of at most %d services",
		points, window, len(services), m.Provider, batches, m.MaxServices)}
}

// probeQuery reads the first page of q and returns the data points its window holds; a
// window with data is kept for the quota check.
func (t *tester) probeQuery(ctx context.Context, q calm.MetricsQuery) (int, error) {
	for page, err := range t.client.Metrics(ctx, q) {
		if err != nil {
			return 0, err
		}
		points := max(page.Total, page.Points)
		if points > 0 {
			t.probed = append(t.probed, probed{q: q, points: points})
		}
		return points, nil
	}
	return 0, nil
}

// probeEvents asks for one status event of the last 24 hours; when there is one, it asks for
// the events of a day that ended 2 days ago too, and warns when any of them lies outside that
// day (calm.StatusEvent.Outside): the tenant does not honour startTime/endTime, and a backfill of
// status events fails the inside invariant (docs/design.md §7, "Status events").
func (t *tester) probeEvents(ctx context.Context, m monitor.Monitor) Check {
	now := t.opts.Now().UTC()
	q := calm.EventsQuery{From: now.Add(-eventsLookback), To: now, PageSize: 1}
	found := false
	for _, err := range t.client.StatusEvents(ctx, q) {
		if err != nil {
			return t.monitorFailure(err, m)
		}
		found = true
		break
	}
	if !found {
		return Check{Status: Pass, Detail: "status events answered: no events in the last 24 h"}
	}
	old := calm.EventsQuery{From: now.Add(-3 * eventsLookback), To: now.Add(-2 * eventsLookback), PageSize: eventsPageSize}
	n := 0
	for ev, err := range t.client.StatusEvents(ctx, old) {
		if err != nil {
			return t.monitorFailure(err, m)
		}
		if n++; n > eventsPageSize {
			break // the first page tells
		}
		if ev.Outside(old.From, old.To, now) {
			return Check{Status: Warn, Detail: fmt.Sprintf("status events answered, but asked for %s–%s the API sent event %s from %s to %s, outside it",
				old.From.Format(time.RFC3339), old.To.Format(time.RFC3339), ev.EventID, ev.EventStartTime, ev.EventEndTime),
				Hint: "the tenant may not honour startTime/endTime: scheduled runs still read the last 24 h, but a backfill of status events fails (invariant inside); please report it with a transcript (calmctl test --record DIR)"}
		}
	}
	return Check{Status: Pass, Detail: "status events answered: at least one event in the last 24 h; a day 2 days old answered inside it"}
}

// eventsPageSize is how many events the probe of an old day reads: one page, enough to show an
// event outside the day when the range is not honoured.
const eventsPageSize = 50

// probeLogs asks the first service the monitor's discovery provider lists for its log records
// of the last 24 hours, an hour at a time (a live tenant caps a logs query at 60 minutes),
// newest first, and stops at the first hour with records: one request on an active tenant.
// The last logs monitor probed warns when no logs monitor found any record (a provider that
// serves nothing, or logs served under another provider, would be collected as nothing).
func (t *tester) probeLogs(ctx context.Context, m monitor.Monitor) Check {
	services, stop := t.discover(ctx, m, "logs")
	if stop != nil {
		if stop.Status == Pass { // no service listed: no records either
			return t.logsResult(m, *stop, 0)
		}
		return *stop
	}
	s := services[0]
	end := t.opts.Now().UTC().Add(-probeLag).Truncate(time.Minute)
	for to := end; to.After(end.Add(-logsLookback)); to = to.Add(-time.Hour) {
		from := to.Add(-time.Hour)
		n := 0
		for page, err := range t.client.Logs(ctx, calm.LogsQuery{ServiceID: s.ID, From: from, To: to, PageSize: 1, Provider: m.LogsProvider}) {
			if err != nil {
				return t.monitorFailure(err, m)
			}
			n = max(page.Total, page.Records)
			break
		}
		if n > 0 {
			t.served = append(t.served, served{m: m, services: len(services), service: s, from: from, to: to, records: n})
			return t.logsResult(m, Check{Status: Pass, Detail: fmt.Sprintf("provider %s: %d log records of %s in %s",
				m.LogsProvider, n, s.Name, windowText(from, to))}, n)
		}
	}
	t.served = append(t.served, served{m: m, services: len(services), service: s, from: end.Add(-time.Hour), to: end})
	return t.logsResult(m, Check{Status: Pass, Detail: fmt.Sprintf("provider %s: no log records of %s in the last 24 h (the API answered)", m.LogsProvider, s.Name)}, 0)
}

// discover lists the services of the monitor's discovery provider, for a logs or traces probe
// (one service a request). stop is the check to report instead when discovery fails, or when it
// lists no service (what names what was not probed); such a monitor is still measured by the
// quota check, for its discovery.
func (t *tester) discover(ctx context.Context, m monitor.Monitor, what string) (services []calm.Service, stop *Check) {
	services, err := t.client.Services(ctx, m.Provider)
	if err != nil {
		c := t.apiFailure(err, monitor.AnalyticsScope, "monitor "+m.ID+" service discovery")
		return nil, &c
	}
	if len(services) == 0 {
		t.served = append(t.served, served{m: m})
		return nil, &Check{Status: Pass, Detail: fmt.Sprintf("no services listed by %s: no %s to probe", m.Provider, what)}
	}
	return services, nil
}

// logsLookback is how far back the logs probes look for a record.
const logsLookback = 24 * time.Hour

// logsResult counts a logs probe's records and, for the last enabled logs monitor, turns c into
// a warning when no logs monitor found any.
func (t *tester) logsResult(m monitor.Monitor, c Check, records int) Check {
	t.logsRecords += records
	var last string
	var providers []string
	for _, lm := range t.enabled() {
		if lm.API == monitor.Logs {
			last, providers = lm.ID, append(providers, lm.LogsProvider)
		}
	}
	if m.ID != last || t.logsRecords > 0 {
		return c
	}
	c.Status = Warn
	c.Detail += fmt.Sprintf("; no log records under any of the probed providers (%s) in the last 24 h", strings.Join(providers, ", "))
	c.Hint = "the logs monitors would collect nothing: check that the tenant's exceptions and job logs are set up, " +
		"and enable the logs monitor of the provider that serves them (logs, logs-exm-jam, logs-bsm, logs-im, logs-iep, " +
		"logs-jam-def, logs-jam-run, logs-jam-run-step)"
	return c
}

// probeAnalytics asks for the last window's data of an analytics monitor, as collection does.
func (t *tester) probeAnalytics(ctx context.Context, m monitor.Monitor) Check {
	from, to := t.lastWindow()
	window := windowText(from, to)
	q := calm.AnalyticsQuery{Provider: m.DataProvider, Version: m.Version, Dimensions: m.Dimensions, Measures: m.Measures,
		Methods: m.Methods, From: from, To: to, Resolution: "5Mi"}
	for _, f := range m.Filters {
		q.Filters = append(q.Filters, calm.AnalyticsFilter{Key: f.Key, Values: f.Values})
	}
	points, err := t.client.AnalyticsData(ctx, q)
	if err != nil {
		return t.monitorFailure(err, m)
	}
	if len(points) == 0 {
		return Check{Status: Pass, Detail: fmt.Sprintf("no values of %s in %s (the API answered)", m.DataProvider, window)}
	}
	t.analytics = append(t.analytics, analyticsProbe{m: m, q: q, values: len(points)})
	return Check{Status: Pass, Detail: fmt.Sprintf("%d values of %s in %s", len(points), m.DataProvider, window)}
}

func (t *tester) monitorFailure(err error, m monitor.Monitor) Check {
	scope := m.Scope
	var ae *calm.APIError
	if errors.As(err, &ae) && ae.StatusCode == http.StatusForbidden && t.tokens != nil {
		// the first scope the monitor needs that the token lacks: its own, or its API's
		for _, s := range m.NeedsScopes() {
			if !t.tokens.HasScope(s) {
				scope = s
				break
			}
		}
	}
	c := t.apiFailure(err, scope, "monitor "+m.ID)
	if errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound && !m.ScopeConfirmed {
		c.Hint = "this tenant does not offer the " + m.ID + " data (HTTP 404 for an unconfirmed monitor): disable it, or " + hintAPI404
	}
	return c
}
