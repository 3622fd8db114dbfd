package conntest

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/record"
)

// What api-shape asks besides paging: whether from/to and period are honoured for the last hour
// and for an hour three hours old, what time a point is stamped with, and how several service ids
// are sent (docs/cloud-alm-api.md, "Time windows, point stamps and service lists"). The
// collector learns the same per tenant; this check says it to the operator.

// oldWindowAge is how old the hour is that api-shape asks for besides the last one.
const oldWindowAge = 3 * time.Hour

// edges counts where a page's points lie relative to [from, to].
type edges struct {
	inside, atFrom, atTo, before, after int
	example                             string // a point outside [from, to)
}

func edgesOf(p calm.MetricsPage, from, to time.Time) edges {
	var e edges
	_ = record.FromMetrics("", "", p.Metrics, func(r record.Record) error {
		switch t := r.Time; {
		case t.Before(from):
			e.before++
		case t.After(to):
			e.after++
		case t.Equal(to):
			e.atTo++
		default:
			e.inside++
			if t.Equal(from) {
				e.atFrom++
			}
			return nil
		}
		if e.example == "" {
			e.example = r.Name() + " at " + r.Time.UTC().Format(time.RFC3339)
		}
		return nil
	})
	return e
}

// beyond reports points beyond the window, or on both of its edges (no stamping explains that).
func (e edges) beyond() bool { return e.before+e.after > 0 || e.atFrom > 0 && e.atTo > 0 }

// timeFacts reads the hour three hours old with from/to and with a period reaching back to it,
// and the last hour with period=L1H; last is the last hour's page asked with from/to.
func (t *tester) timeFacts(ctx context.Context, m monitor.Monitor, last calm.MetricsPage, from, to time.Time) (facts, warns, hints []string, err error) {
	now := t.opts.Now().UTC()
	oldTo := now.Truncate(time.Hour).Add(-oldWindowAge)
	oldFrom := oldTo.Add(-time.Hour)
	period := calm.PeriodCovering(oldFrom, now)
	old, err := t.firstPage(ctx, m, calm.MetricsQuery{From: oldFrom, To: oldTo}, shapeLimit)
	if err != nil {
		return nil, nil, nil, err
	}
	byPeriod, err := t.firstPage(ctx, m, calm.MetricsQuery{From: oldFrom, To: oldTo, Period: period}, shapeLimit)
	if err != nil {
		return nil, nil, nil, err
	}
	lastPeriod, err := t.firstPage(ctx, m, calm.MetricsQuery{From: from, To: to, Period: "L1H"}, shapeLimit)
	if err != nil {
		return nil, nil, nil, err
	}
	lastE, oldE := edgesOf(last, from, to), edgesOf(old, oldFrom, oldTo)
	oldName := fmt.Sprintf("%s–%s", oldFrom.Format("15:04"), oldTo.Format("15:04"))
	switch {
	case lastE.beyond() || oldE.beyond() && oldE.inside == 0:
		e := lastE
		if !e.beyond() {
			e = oldE
		}
		warns = append(warns, fmt.Sprintf("from/to are not honoured (asked for %s, got points outside it, e.g. %s)", oldName, e.example))
		hints = append(hints, fmt.Sprintf("nothing to change: the collector reads such a tenant by period (%s for %s) and keeps each window's points, "+
			"at more bytes a run; report it to SAP (component SV-CLM-API) with this check's output", period, oldName))
	case oldE.inside > 0:
		facts = append(facts, "from/to honoured for the last hour and for "+oldName)
	default:
		facts = append(facts, "from/to honoured for the last hour; no data in "+oldName+" to tell for older windows")
	}
	if pe := edgesOf(byPeriod, oldFrom, oldTo); pe.inside > 0 {
		facts = append(facts, fmt.Sprintf("period=%s reaches %s", period, oldName))
	} else if byPeriod.Points > 0 {
		warns = append(warns, fmt.Sprintf("period=%s does not reach %s: a tenant that also ignores from/to cannot be read that far back", period, oldName))
		hints = append(hints, "the collector fails such windows loudly (held, retried); report it to SAP with this check's output")
	}
	if pe := edgesOf(lastPeriod, now.Add(-time.Hour-probeResolution), now); lastPeriod.Points > 0 && pe.inside > 0 {
		facts = append(facts, "period=L1H honoured")
	}
	facts = append(facts, stamping(oldE, lastE))
	return facts, warns, hints, nil
}

// stamping says what time a point is stamped with, from the pages of windows whose from/to were
// honoured: points on the end and none on the start are stamped with their bucket's end.
func stamping(pages ...edges) string {
	for _, e := range pages {
		switch {
		case e.beyond():
			continue
		case e.atTo > 0:
			return "points stamped with their bucket's end (the last bucket falls on to; the collector moves every point back a bucket)"
		case e.atFrom > 0:
			return "points stamped with their bucket's start"
		}
	}
	return "no point on a window's edge: what time a point is stamped with is unknown"
}

// serviceListFact asks the last hour of the first enabled monitor that names services (rum) for
// up to MaxServices services each alone, then as serviceId=a,b,c, then as repeated serviceId
// parameters: the form whose answer holds exactly the records of the single requests is the
// tenant's. "" when no such monitor is enabled.
func (t *tester) serviceListFact(ctx context.Context, from, to time.Time) (fact, warn string, err error) {
	m := t.firstEnabled(func(m monitor.Monitor) bool { return m.IsMetrics() && m.MaxServices > 1 })
	if m.ID == "" {
		return "", "", nil
	}
	services, err := t.client.Services(ctx, m.Provider)
	if err != nil {
		return "", "", err
	}
	services = services[:min(len(services), m.MaxServices)]
	singles, withData := map[string]bool{}, 0
	var ids []string
	for _, s := range services {
		got, err := t.recordIDs(ctx, m, calm.MetricsQuery{From: from, To: to, ServiceIDs: []string{s.ID}})
		if err != nil {
			return "", "", err
		}
		if len(got) > 0 {
			withData++
		}
		maps.Copy(singles, got)
		ids = append(ids, s.ID)
	}
	if withData < 2 {
		return fmt.Sprintf("service lists: fewer than two %s services with data in the last hour, their form is unknown (the collector asks one service a request until it knows)", m.ID), "", nil
	}
	for _, repeat := range []bool{false, true} {
		got, err := t.recordIDs(ctx, m, calm.MetricsQuery{From: from, To: to, ServiceIDs: ids, RepeatServiceIDs: repeat})
		if err != nil || !maps.Equal(got, singles) {
			continue
		}
		if repeat {
			return "service lists: only repeated serviceId parameters select several services (serviceId=a,b,c does not; the collector sends them repeated)", "", nil
		}
		return "service lists: serviceId=a,b,c selects several services", "", nil
	}
	return "", fmt.Sprintf("service lists: neither serviceId=a,b,c nor repeated serviceId parameters selected the %d %s services asked for: the collector asks one service a request", len(ids), m.ID), nil
}

// recordIDs reads every page of q for the monitor and returns the ids of its records.
func (t *tester) recordIDs(ctx context.Context, m monitor.Monitor, q calm.MetricsQuery) (map[string]bool, error) {
	q.Provider, q.Resolution, q.PageSize, q.AllPages = m.ID, "5Mi", 1000, true
	q.Dimensions, q.Metrics = m.Columns()
	ids := map[string]bool{}
	for page, err := range t.client.Metrics(ctx, q) {
		if err != nil {
			return nil, err
		}
		_ = record.FromMetrics("", m.ID, page.Metrics, func(r record.Record) error { ids[r.ID] = true; return nil })
	}
	return ids, nil
}
