package conntest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/record"
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
	var m monitor.Monitor
	for _, id := range t.opts.Monitors {
		if mm, ok := t.table.Lookup(id); ok && mm.IsMetrics() && mm.MaxServices == 0 {
			m = mm
			break
		}
	}
	if m.ID == "" {
		return skip("no metrics monitor (other than rum) is enabled")
	}
	to := t.opts.Now().UTC().Add(-probeLag).Truncate(probeResolution)
	from := to.Add(-time.Hour)
	one, err := t.firstPage(ctx, m, from, to, 1)
	if err == nil {
		var many calm.MetricsPage
		if many, err = t.firstPage(ctx, m, from, to, shapeLimit); err == nil {
			return shapeOf(m, one, many, from, to, t.formats())
		}
	}
	// The monitor's own check says what is wrong; this one only could not look.
	return Check{Status: Warn, Detail: "could not probe the API's shape with " + m.ID + ": " + err.Error(), Hint: "see the monitor:" + m.ID + " check"}
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

// shapeOf reads the answers of the limit=1 and limit=shapeLimit pages.
func shapeOf(m monitor.Monitor, one, many calm.MetricsPage, from, to time.Time, formats string) Check {
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
	if out := outside(many, from, to); out != "" {
		warns = append(warns, "from/to are not honoured: "+out)
		hints = append(hints, "points outside a window are counted as dropped and delivered by their own window; report it to SAP (component SV-CLM-API) with this check's output")
	} else if many.Points > 0 {
		facts = append(facts, "from/to honoured (every time inside the asked window)")
	}
	facts = append(facts, formats)
	detail := fmt.Sprintf("%s %s–%s UTC: %s", m.ID, from.Format("2006-01-02 15:04"), to.Format("15:04"), strings.Join(append(warns, facts...), "; "))
	if len(warns) > 0 {
		return Check{Status: Warn, Detail: detail, Hint: strings.Join(hints, "; ")}
	}
	return Check{Status: Pass, Detail: detail}
}

// firstPage reads the first page of the monitor's metrics of [from, to) with the limit.
func (t *tester) firstPage(ctx context.Context, m monitor.Monitor, from, to time.Time, limit int) (calm.MetricsPage, error) {
	q := calm.MetricsQuery{Provider: m.ID, From: from, To: to, Resolution: "5Mi", PageSize: limit}
	q.Dimensions, q.Metrics = m.Columns()
	for page, err := range t.client.Metrics(ctx, q) {
		return page, err
	}
	return calm.MetricsPage{Total: -1}, nil
}

// outside names the first data point time outside [from, to), "" when there is none.
func outside(p calm.MetricsPage, from, to time.Time) string {
	if p.Points == 0 {
		return ""
	}
	var bad string
	n := 0
	_ = record.FromMetrics("", "", p.Metrics, func(r record.Record) error {
		if r.Time.Before(from) || !r.Time.Before(to) {
			if n++; bad == "" {
				bad = fmt.Sprintf("%s at %s", r.Name, r.Time.UTC().Format(time.RFC3339))
			}
		}
		return nil
	})
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d data points outside %s–%s, e.g. %s", n, from.Format(time.RFC3339), to.Format(time.RFC3339), bad)
}
