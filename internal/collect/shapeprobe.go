package collect

import (
	"context"
	"fmt"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/record"
)

// fromToProbeAge is how old the hour is that probeFromTo asks for: older than the last hour a
// tenant that ignores from/to serves instead.
const fromToProbeAge = 3 * time.Hour

// fromToProbeLimit is the page size of the probe: one page of it is read.
const fromToProbeLimit = 100

// probeFromTo asks, once per tenant (again a day after an answer other than "honoured"),
// whether the metrics API honours from/to: one page of the hour that ended three hours ago, of
// the run's first metrics monitor that names no service (tenantShape.probe). Points inside the
// hour (or on its end, under end stamps): honoured; points, but none inside: ignored; none:
// unknown. Edges of collected spans cannot tell: the last hour that a tenant ignoring from/to
// serves lies inside a first run's span (learnShape). The first metrics monitor of the run
// asks, on its counters; the others wait for the answer.
func (mr *monitorRun) probeFromTo(ctx context.Context, now time.Time) (err error) {
	sh := mr.shape
	if sh == nil || !mr.m.Info().IsMetrics() {
		return nil
	}
	sh.probeOnce.Do(func() {
		m := sh.probe
		if m.ID == "" || !sh.fromToDue(now) || mr.nearDeadline() {
			return
		}
		pctx := ctx
		if !mr.stopAt.IsZero() {
			var cancel context.CancelFunc
			pctx, cancel = context.WithDeadline(ctx, mr.stopAt)
			defer cancel()
		}
		to := now.Truncate(time.Hour).Add(-fromToProbeAge)
		mq := calm.MetricsQuery{Provider: m.ID, From: to.Add(-time.Hour), To: to, Resolution: mr.Config.resolutionParam(), PageSize: fromToProbeLimit}
		mq.Dimensions, mq.Metrics = m.Columns()
		verdict, example := FromToUnknown, ""
		for page, perr := range mr.Client.Metrics(pctx, mq) {
			if perr != nil && pctx.Err() != nil && ctx.Err() == nil {
				return // cut at the deadline margin: the monitor stops there too, and the next run asks
			}
			if perr != nil {
				// Loud: this monitor fails (its windows are held); the next run asks again.
				err = fmt.Errorf("ask whether the tenant honours from/to (%s %s): %w", m.ID, fmtRange(Range{From: mq.From, To: mq.To}), perr)
				return
			}
			verdict, example = fromToVerdict(page, mq.From, mq.To)
			break
		}
		sh.learnFromTo(verdict, now, example)
	})
	return err
}

// probeMonitor is the monitor probeFromTo asks: the first selected metrics monitor that names
// no service.
func probeMonitor(selected []Monitor) Info {
	for _, s := range selected {
		if in := s.Info(); in.IsMetrics() && in.MaxServices == 0 {
			return in
		}
	}
	return Info{}
}

// fromToVerdict reads the probe's page: FromToHonoured when a point lies in [from, to] (to
// included: end stamps), FromToIgnored when points came but none inside, FromToUnknown when none
// came; example names a point outside.
func fromToVerdict(page calm.MetricsPage, from, to time.Time) (verdict, example string) {
	inside, outside := 0, 0
	_ = record.FromMetrics("", "", page.Metrics, func(r record.Record) error {
		if r.Time.Before(from) || r.Time.After(to) {
			if outside++; example == "" {
				example = r.Name() + " at " + r.Time.UTC().Format(time.RFC3339)
			}
			return nil
		}
		inside++
		return nil
	})
	switch {
	case inside > 0:
		return FromToHonoured, ""
	case outside > 0:
		return FromToIgnored, example
	}
	return FromToUnknown, ""
}
