package console

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/monitor"
)

// statusView is the status page: one row per tenant and monitor.
type statusView struct {
	Now        time.Time
	StateName  string
	Records    string
	Resolution time.Duration
	// Schedule is the time between scheduled runs; OnTime and Late bound the lag's colours.
	Schedule, OnTime, Late time.Duration
	Tenants                []string
	Rows                   []statusRow
	Problems               []string
	Skipped                int // record lines that were not counted
}

// statusRow is one monitor of one tenant.
type statusRow struct {
	Tenant, Monitor string
	Place           monitorPlace // title and group from the monitor table
	HasCheckpoint   bool
	Next            time.Time // the last completed window ends here
	Lag             time.Duration
	LagLevel        string // "ok", "late", "stale"
	LastRun         time.Time
	LastSuccess     time.Time
	LastError       string
	LastPoints      int
	Total           int       // records in the last day
	Newest          time.Time // newest record time
	Chart           chart
}

// chart is a bar chart of records per window, drawn as inline SVG by the template.
type chart struct {
	W, H  int
	Bars  []chartBar
	Max   int
	Title string
	Empty bool
}

type chartBar struct {
	X, Y, W, H float64
	Title      string
}

const chartHeight = 40

func (c *Console) status(ctx context.Context, conns []summary) statusView {
	now := c.cfg.Now().UTC()
	onTime := c.cfg.Schedule + c.cfg.Resolution + collect.DefaultConfig().Lag // see lagLevel
	sv := statusView{Now: now, StateName: c.cfg.StateName, Records: c.cfg.Records, Resolution: c.cfg.Resolution,
		Schedule: c.cfg.Schedule, OnTime: onTime, Late: onTime + 2*c.cfg.Schedule}

	var counts map[seriesKey]seriesCounts
	if c.records != nil {
		var err error
		counts, sv.Skipped, err = c.records.snapshot(now)
		if err != nil {
			sv.Problems = append(sv.Problems, err.Error())
		}
	}
	tenants := slices.Clone(c.cfg.Tenants)
	for _, s := range conns {
		if s.Settings.Name != "" {
			tenants = append(tenants, s.Settings.Name)
		}
	}
	for k := range counts {
		tenants = append(tenants, k.Tenant)
	}
	slices.Sort(tenants)
	tenants = slices.Compact(tenants)

	tab, err := monitor.Builtin().With(c.cfg.Extra...)
	if err != nil {
		sv.Problems = append(sv.Problems, fmt.Sprintf("monitors given as data: %v", err))
		tab = monitor.Builtin()
	}
	rows := map[seriesKey]*statusRow{}
	if c.cfg.State != nil {
		for _, t := range tenants {
			cps, err := c.cfg.State.List(ctx, t)
			if err != nil {
				sv.Problems = append(sv.Problems, fmt.Sprintf("checkpoints of %s: %v", t, err))
				continue
			}
			for _, cp := range cps {
				lag := now.Sub(cp.Next)
				rows[seriesKey{cp.Tenant, cp.Monitor}] = &statusRow{
					Tenant: cp.Tenant, Monitor: cp.Monitor, HasCheckpoint: true,
					Next: cp.Next, Lag: lag, LagLevel: sv.lagLevel(lag),
					LastRun: cp.LastRunAt, LastSuccess: cp.LastSuccess, LastError: cp.LastError, LastPoints: cp.LastPoints,
				}
			}
		}
	}
	for k := range counts {
		if _, ok := rows[k]; !ok {
			rows[k] = &statusRow{Tenant: k.Tenant, Monitor: k.Monitor}
		}
	}
	for _, k := range sortedSeries(rows) {
		row := rows[k]
		sc, ok := counts[k]
		if !ok {
			sc = seriesCounts{Windows: make([]int, int(chartSpan/c.cfg.Resolution))}
		}
		row.Total, row.Newest = sc.Total, sc.Newest
		row.Chart = c.chart(sc, now)
		row.Place = placeOf(tab, row.Monitor)
		sv.Rows = append(sv.Rows, *row)
	}
	slices.SortStableFunc(sv.Rows, compareRows)
	for _, r := range sv.Rows {
		sv.Tenants = append(sv.Tenants, r.Tenant)
	}
	sv.Tenants = slices.Compact(sv.Tenants)
	return sv
}

// lagLevel grades a lag against the schedule. Data ends at the last window closed before now
// minus the collector's lag, so a run on time leaves at most one schedule period, one window and
// that lag: ok (OnTime). Up to two more periods (a run or two missed, or slow) is late (Late);
// beyond, stale.
func (sv statusView) lagLevel(lag time.Duration) string {
	switch {
	case lag <= sv.OnTime:
		return "ok"
	case lag <= sv.Late:
		return "late"
	}
	return "stale"
}

// chart draws one bar per window of the last day, scaled to the busiest window.
func (c *Console) chart(sc seriesCounts, now time.Time) chart {
	n := len(sc.Windows)
	ch := chart{W: n, H: chartHeight}
	for _, v := range sc.Windows {
		ch.Max = max(ch.Max, v)
	}
	ch.Title = fmt.Sprintf("%d records in the last 24 h, at most %d per %s window", sc.Total, ch.Max, fmtDuration(c.cfg.Resolution))
	if ch.Max == 0 {
		ch.Empty = true
		return ch
	}
	start := now.Truncate(c.cfg.Resolution).Add(-chartSpan)
	for i, v := range sc.Windows {
		if v == 0 {
			continue
		}
		h := float64(v) / float64(ch.Max) * float64(chartHeight-2)
		h = max(h, 1)
		from := start.Add(time.Duration(i) * c.cfg.Resolution)
		ch.Bars = append(ch.Bars, chartBar{X: float64(i), Y: float64(chartHeight) - h, W: 0.8, H: h,
			Title: fmt.Sprintf("%s: %d", from.Format("15:04"), v)})
	}
	return ch
}
