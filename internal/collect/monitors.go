package collect

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/record"
)

// Client is what the monitors need from Cloud ALM; *calm.Client satisfies it.
type Client interface {
	Metrics(ctx context.Context, q calm.MetricsQuery) iter.Seq2[calm.MetricsPage, error]
	Services(ctx context.Context, provider string) ([]calm.Service, error)
	StatusEvents(ctx context.Context, q calm.EventsQuery) iter.Seq2[calm.StatusEvent, error]
	Logs(ctx context.Context, q calm.LogsQuery) iter.Seq2[calm.LogsPage, error]
	AnalyticsData(ctx context.Context, q calm.AnalyticsQuery) ([]calm.AnalyticsPoint, error)
	Traces(ctx context.Context, q calm.TracesQuery) iter.Seq2[calm.TracesPage, error]
}

// Monitor is one Cloud ALM source. Fetch emits every record of [q.From, q.To) with one paged
// request series (or a few, for sources queried in batches); records that fall outside the range
// are dropped by the runner.
type Monitor interface {
	Info() Info
	Fetch(ctx context.Context, c Client, q Query, emit func(record.Record)) error
}

// Info describes a monitor: its row of the one monitor table (internal/monitor).
type Info = monitor.Monitor

// Query is the time range and settings of one Fetch.
type Query struct {
	Tenant     string
	From, To   time.Time
	Resolution string // metrics API resolution, e.g. "5Mi"
	// Shape is what the run learned of how the tenant answers (nil: the usual reading); Now is
	// the run's clock when the Fetch starts, which a period is counted back from.
	Shape *tenantShape
	Now   time.Time
	// tally, when set, gathers what each request series says of itself (invariants.go).
	tally *tally
	// cheap asks a Count to be at most a request per batch of services (settle.go); without it a
	// Count may ask per service.
	cheap bool
}

// MetricsScope is needed by every call to the metrics API, in addition to the monitor's scope.
const MetricsScope = monitor.MetricsScope

// monitors are the monitors of the built-in table (internal/monitor), each with the Fetch of
// its API.
var monitors = monitorsOf(monitor.Builtin())

// monitorsOf returns the monitors of a table, in table order, each with the Fetch of its API;
// a row of an API this version cannot read is left out.
func monitorsOf(t monitor.Table) []Monitor {
	var ms []Monitor
	for _, in := range t.All() {
		switch {
		case in.API == monitor.Events:
			ms = append(ms, status{info: in})
		case in.API == monitor.Logs, in.API == monitor.Traces: // read alike (traces.go)
			ms = append(ms, logs{info: in})
		case in.API == monitor.Analytics:
			ms = append(ms, analytics{info: in})
		case in.MaxServices > 0:
			ms = append(ms, batched{metrics{info: in}})
		default:
			ms = append(ms, metrics{info: in})
		}
	}
	return ms
}

// MonitorIDs returns the ids of every built-in monitor, in table order.
func MonitorIDs() []string { return monitor.IDs() }

// Lookup returns the built-in monitor with the id, or nil.
func Lookup(id string) Monitor { return lookupIn(monitors, id) }

func lookupIn(ms []Monitor, id string) Monitor {
	for _, m := range ms {
		if m.Info().ID == id {
			return m
		}
	}
	return nil
}

// Scopes is what SelectFrom needs from the token: *calm.TokenSource satisfies it.
type Scopes interface{ HasScope(suffix string) bool }

// SelectFrom resolves monitor names to monitors of a table. ["auto"] picks every monitor
// whose scope is confirmed and whose scopes the token grants (its own and its API's); names
// pick exactly those monitors, whatever their scope (the API's answer tells); ["all"] names
// every monitor. skipped lists the monitors "auto" left out and why.
func SelectFrom(t monitor.Table, names []string, scopes Scopes) (selected []Monitor, skipped []string, err error) {
	ms := monitors
	if len(t.IDs()) != len(monitor.IDs()) {
		ms = monitorsOf(t)
	}
	if len(names) == 1 && names[0] == AllMonitors {
		names = t.IDs()
	}
	if len(names) == 1 && names[0] == AutoMonitors {
		for _, m := range ms {
			in := m.Info()
			lacks := slices.IndexFunc(in.NeedsScopes(), func(s string) bool { return !scopes.HasScope(s) })
			switch {
			case !in.ScopeConfirmed:
				skipped = append(skipped, fmt.Sprintf("%s: unconfirmed scope %s; name the monitor to collect it", in.ID, in.Scope))
			case lacks >= 0:
				skipped = append(skipped, fmt.Sprintf("%s: the token lacks scope %s", in.ID, in.NeedsScopes()[lacks]))
			default:
				selected = append(selected, m)
			}
		}
		return selected, skipped, nil
	}
	var unknown []string
	for _, n := range names {
		m := lookupIn(ms, n)
		if m == nil {
			unknown = append(unknown, fmt.Sprintf("%q", n))
			continue
		}
		if !slices.ContainsFunc(selected, func(s Monitor) bool { return s.Info().ID == n }) {
			selected = append(selected, m)
		}
	}
	if len(unknown) > 0 {
		return nil, nil, fmt.Errorf("monitors: unknown %s; known: %s", strings.Join(unknown, ", "), strings.Join(t.IDs(), ","))
	}
	return selected, nil, nil
}
