package conntest

import (
	"fmt"
	"github.com/calm-collector/calm-collector/internal/collect"
	"slices"
	"strings"
)

// Scope suffixes the connection test knows about. A granted scope looks like
// `<xsappname>.calm-api.hm.read`; it is matched on the `calm-api.…` suffix.
const (
	ScopeMetrics   = collect.MetricsScope      // every raw-data metrics call (docs/design.md §1.3)
	ScopeAnalytics = "calm-api.analytics.read" // providers and filters: the api check, service discovery
	// ScopeIntegration is the unconfirmed scope of the Integration Monitoring providers.
	ScopeIntegration = collect.IntegrationScope
)

// Monitor is what the connection test needs to know about one monitor.
type Monitor struct {
	ID string
	// Scope is the calm-api scope suffix the monitor needs.
	Scope string
	// Confirmed is false when SAP has not published the scope: a missing unconfirmed scope never
	// fails the scopes check, the monitor probe decides.
	Confirmed bool
	// Events marks the status-events monitor (BSM events API, not the metrics API).
	Events bool
	// Logs marks the raw logs monitor (logs API); Provider names its service discovery.
	Logs     bool
	Provider string
}

// Scopes lists every monitor the collector has, with its scope: taken from the one monitor
// table in internal/collect, so that the test and the collection never disagree. Metrics
// monitors also need ScopeMetrics.
var Scopes = func() []Monitor {
	var ms []Monitor
	for _, m := range collect.Monitors() {
		in := m.Info()
		ms = append(ms, Monitor{ID: in.ID, Scope: in.Scope, Confirmed: in.ScopeConfirmed, Events: in.Events, Logs: in.Logs, Provider: in.Provider})
	}
	return ms
}()

// DefaultMonitors is the set tested when Options.Monitors is empty: the monitors whose scopes are
// confirmed.
var DefaultMonitors = []string{"hm", "rum", "jam", "exm", "iep"}

// LookupMonitor returns the table entry of a monitor id.
func LookupMonitor(id string) (Monitor, bool) {
	i := slices.IndexFunc(Scopes, func(m Monitor) bool { return m.ID == id })
	if i < 0 {
		return Monitor{}, false
	}
	return Scopes[i], true
}

// MonitorIDs returns every monitor id of the table, in table order.
func MonitorIDs() []string {
	ids := make([]string, len(Scopes))
	for i, m := range Scopes {
		ids[i] = m.ID
	}
	return ids
}

// ParseMonitors splits a comma list of monitor ids ("" = DefaultMonitors) and rejects unknown
// ids, naming them and the known ones.
func ParseMonitors(list string) ([]string, error) {
	if strings.TrimSpace(list) == "" {
		return slices.Clone(DefaultMonitors), nil
	}
	var ids, unknown []string
	for _, id := range strings.Split(list, ",") {
		id = strings.TrimSpace(id)
		if id == "" || slices.Contains(ids, id) {
			continue
		}
		if _, ok := LookupMonitor(id); !ok {
			unknown = append(unknown, id)
			continue
		}
		ids = append(ids, id)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown monitor %s: use a comma list of %s",
			strings.Join(unknown, ", "), strings.Join(MonitorIDs(), ","))
	}
	return ids, nil
}

// authority is the line to put into the service instance's "authorities" parameter for a scope.
func authority(scope string) string { return "$XSMASTERAPPNAME." + scope }
