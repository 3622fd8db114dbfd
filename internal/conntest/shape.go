package conntest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/monitor"
)

// shapeLimit is the limit of api-shape's second page: large enough that a page shorter than
// it while the total says more is the tenant's cap.
const shapeLimit = 100

// checkAPIShape learns how the tenant answers what SAP's material leaves open
// (docs/cloud-alm-api.md): with a limit=1 page and a limit=100 page of the last hour of the
// first enabled metrics monitor, it reports what limit/offset count (data points or rows), any
// page cap below the limit, whether the returned times lie inside the asked window, and whether
// protobuf-binary and gzip were served. It is
// what an operator pastes into a bug report; it warns where the answer is unexpected.
func (t *tester) checkAPIShape(ctx context.Context) Check {
	if why := t.apiSkip(); why != "" {
		return skip(why)
	}
	m := t.firstEnabled(func(m monitor.Monitor) bool { return m.IsMetrics() && m.MaxServices == 0 })
	if m.ID == "" {
		return skip("no metrics monitor (other than rum) is enabled")
	}
	to := t.opts.Now().UTC().Add(-probeLag).Truncate(probeResolution)
	from := to.Add(-time.Hour)
	one, err := t.firstPage(ctx, m, calm.MetricsQuery{From: from, To: to}, 1)
	if err == nil {
		var many calm.MetricsPage
		if many, err = t.firstPage(ctx, m, calm.MetricsQuery{From: from, To: to}, shapeLimit); err == nil {
			var more shapeFacts
			if more.facts, more.warns, more.hints, err = t.timeFacts(ctx, m, many, from, to); err == nil {
				list, warn, lerr := t.serviceListFact(ctx, from, to)
				switch {
				case lerr != nil:
					more.facts = append(more.facts, "service lists: could not probe them ("+errText(lerr)+")")
				case warn != "":
					more.warns = append(more.warns, warn)
					more.hints = append(more.hints, "nothing to change: each service costs a request of its own; report it to SAP with this check's output")
				case list != "":
					more.facts = append(more.facts, list)
				}
				more.facts = append(more.facts, t.delayFact(ctx))
				return shapeOf(m, one, many, from, to, t.formats(), more)
			}
		}
	}
	// The monitor's own check says what is wrong; this one only could not look.
	return Check{Status: Warn, Detail: "could not probe the API's shape with " + m.ID + ": " + err.Error(), Hint: "see the monitor:" + m.ID + " check"}
}

// delayFact says how late the tenant's data has come, as collection learned it (docs/design.md
// §7): a connection test sees one moment and cannot learn it itself.
func (t *tester) delayFact(ctx context.Context) string {
	if t.opts.UsualDelay == nil {
		return "late data: learned by collection, whose state is not read here"
	}
	d, ok, err := t.opts.UsualDelay(ctx, t.settings.Name)
	switch {
	case err != nil:
		return "late data: could not read collection's state (" + errText(err) + ")"
	case !ok:
		return "late data: none seen by collection yet"
	}
	return fmt.Sprintf("late data: up to %s after a bucket closed, as collection saw it (keep CALM_SETTLE longer)", d)
}

// formats says whether the tenant served protobuf-binary and gzip to the probes so far.
func (t *tester) formats() string {
	binary := "protobuf-binary served"
	if !t.client.Binary() {
		binary = "protobuf-binary refused (the collector reads protobuf-json)"
	}
	gz := "gzip served"
	if st := t.client.Stats(); st.BytesWire >= st.BytesRead {
		gz = "gzip not served (answers come uncompressed)"
	}
	return binary + ", " + gz
}

// shapeFacts are facts, warnings and hints of api-shape besides paging (timeFacts,
// serviceListFact).
type shapeFacts struct{ facts, warns, hints []string }

// shapeOf reads the answers of the limit=1 and limit=shapeLimit pages, with the other facts.
func shapeOf(m monitor.Monitor, one, many calm.MetricsPage, from, to time.Time, formats string, more shapeFacts) Check {
	var facts, warns, hints []string
	switch {
	case one.Total <= 0 && one.Points == 0:
		facts = append(facts, "no data in the last hour: what limit/offset count is unknown")
	case one.Rows == 1 && one.Points > 1:
		facts = append(facts, fmt.Sprintf("limit/offset count rows (limit=1 gave 1 row of %d data points; x-total-count %d)", one.Points, one.Total))
	case one.Points == 1 && len(m.Measures) > 1:
		facts = append(facts, fmt.Sprintf("limit/offset count data points (limit=1 gave 1 data point; x-total-count %d)", one.Total))
	default:
		facts = append(facts, fmt.Sprintf("limit=1 gave %d data points in %d rows (x-total-count %d)", one.Points, one.Rows, one.Total))
	}
	served := many.Points
	if one.Rows == 1 && one.Points > 1 {
		served = many.Rows
	}
	if many.Total > served && served < shapeLimit && served > 0 {
		warns = append(warns, fmt.Sprintf("the tenant caps a page at %d below the limit %d asked for", served, shapeLimit))
		hints = append(hints, "nothing to change: the collector pages by what the tenant serves; each window costs more requests")
	} else {
		facts = append(facts, fmt.Sprintf("no page cap below limit=%d", shapeLimit))
	}
	facts = append(append(facts, more.facts...), formats)
	warns, hints = append(warns, more.warns...), append(hints, more.hints...)
	detail := fmt.Sprintf("%s %s: %s", m.ID, windowText(from, to), strings.Join(append(warns, facts...), "; "))
	if len(warns) > 0 {
		return Check{Status: Warn, Detail: detail, Hint: strings.Join(hints, "; ")}
	}
	return Check{Status: Pass, Detail: detail}
}

// firstPage reads the first page, at most limit long, of the monitor's metrics for q's window
// (and period).
func (t *tester) firstPage(ctx context.Context, m monitor.Monitor, q calm.MetricsQuery, limit int) (calm.MetricsPage, error) {
	q.Provider, q.Resolution, q.PageSize = m.ID, "5Mi", limit
	q.Dimensions, q.Metrics = m.Columns()
	for page, err := range t.client.Metrics(ctx, q) {
		return page, err
	}
	return calm.MetricsPage{Total: -1}, nil
}
