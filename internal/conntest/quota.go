package conntest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/calm-collector/calm-collector/internal/cadence"
	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/quota"
)

// Defaults of the quota projection (docs/transfer.md).
const (
	// quotaMonth is the month of the projection: 30 days.
	quotaMonth = 30 * 24 * time.Hour
	// quotaSample is the most data points (log records, spans) the sample page of a monitor asks for.
	quotaSample = 2000
)

// probed is a metrics monitor that answered its probe with data: the probe's query (one
// window at the collector's resolution) and the data points the window holds.
type probed struct {
	q      calm.MetricsQuery
	points int
}

// served is a logs or traces monitor whose probe listed its provider's services: how many,
// the one probed, the probe's range and the records (log records, spans) found in it.
type served struct {
	m        monitor.Monitor
	services int
	service  calm.Service
	from, to time.Time
	records  int
}

// analyticsProbe is an analytics monitor that answered its probe (one window) with values.
type analyticsProbe struct {
	m      monitor.Monitor
	q      calm.AnalyticsQuery
	values int
}

// Projection is what the enabled monitors are expected to fetch in a month.
type Projection struct {
	Bytes int64   // on the wire, as the tenant serves them (binary or JSON, gzip'd or not)
	Share float64 // of the quota
	Lines []string
}

// cadenceOf is the month of requests the projection assumes: runs a month at the schedule
// period, and the re-checks a month of a monitor whose count costs a request per service
// (logs, traces): once per settle horizon, or every run when runs are further apart.
type cadenceOf struct {
	period, settle time.Duration
	runs           int64
	// everyRun and perHorizon are the re-checks a month of the other monitors and of the logs
	// and traces monitors: none when settle is not positive (collection re-checks nothing).
	everyRun, perHorizon int64
}

func newCadence(period, settle time.Duration) cadenceOf {
	c := cadenceOf{period: period, settle: settle, runs: int64(quotaMonth / period)}
	if settle > 0 {
		c.everyRun, c.perHorizon = c.runs, int64(quotaMonth/max(settle, period))
	}
	return c
}

// String says the re-check the projection assumes.
func (c cadenceOf) String() string {
	if c.settle <= 0 {
		return "no re-check for late data"
	}
	return "late data re-checked over " + c.settle.String()
}

// checkQuota projects the monthly API transfer of the enabled monitors, measured on this
// tenant: each metrics and analytics monitor that answered with data from a sample of its probe
// window, each logs and traces monitor from a sample of its probe's records plus the requests
// per service (every run's read, the re-check per settle horizon, the service discovery).
// A monitor whose cost could not be measured is named so. Warns above quota.WarnShare of
// QuotaBytes.
func (t *tester) checkQuota(ctx context.Context) Check {
	if t.client == nil || len(t.probed)+len(t.served)+len(t.analytics) == 0 {
		return skip("no enabled monitor answered its probe with anything to measure")
	}
	limit := t.opts.QuotaBytes
	if limit <= 0 {
		limit = quota.DefaultBytes
	}
	period := t.opts.SchedulePeriod
	if period <= 0 {
		period = cadence.SchedulePeriod
	}
	settle := cmp.Or(t.opts.Settle, cadence.Settle)
	c := newCadence(period, settle)
	p, err := t.project(ctx, limit, c)
	if err != nil {
		return Check{Status: Warn, Detail: "could not measure the transfer: " + err.Error(),
			Hint: "run the test again; the collection itself is not affected"}
	}
	detail := fmt.Sprintf("projected %s a month (%.1f %% of the %s quota) at one run every %s, %s: %s",
		gb(p.Bytes), 100*p.Share, gb(limit), period, c, strings.Join(p.Lines, "; "))
	if p.Share > quota.WarnShare {
		return Check{Status: Warn, Detail: detail, Hint: fmt.Sprintf("above %.0f %% of the fair-use quota: enable fewer monitors, "+
			"collect at a coarser resolution, or raise the quota setting if the tenant has bought more", 100*quota.WarnShare)}
	}
	return Check{Status: Pass, Detail: detail}
}

// quotaConcurrency is how many sample requests the quota check has in flight at once: with
// every default monitor enabled it asks some 70, within one check's time limit.
const quotaConcurrency = 4

// projected is what one sample adds to the projection: none when line is "".
type projected struct {
	id    string
	bytes int64
	line  string
	err   error
}

// project measures every probed monitor (quotaConcurrency samples at a time) and projects the
// month, then names the enabled monitors it could not measure. The discovery answer of each
// provider the logs and traces monitors list their services from is measured once.
func (t *tester) project(ctx context.Context, limit int64, c cadenceOf) (Projection, error) {
	var providers []string
	for _, s := range t.served {
		if !slices.Contains(providers, s.m.Provider) {
			providers = append(providers, s.m.Provider)
		}
	}
	discovery := make([]int64, len(providers))
	if err := parallel(len(providers), func(i int) error {
		var dc calm.Counts
		if _, err := t.client.Counting(&dc).Services(ctx, providers[i]); err != nil {
			return fmt.Errorf("discovery sample of %s: %w", providers[i], err)
		}
		discovery[i] = dc.Wire.Load()
		return nil
	}); err != nil {
		return Projection{}, err
	}

	var jobs []func() projected
	for _, pr := range t.probed {
		jobs = append(jobs, func() projected {
			bytes, line, err := t.projectMetrics(ctx, pr, c)
			return projected{pr.q.Provider, bytes, line, err}
		})
	}
	for _, s := range t.served {
		d := discovery[slices.Index(providers, s.m.Provider)]
		jobs = append(jobs, func() projected {
			bytes, line, err := t.projectServed(ctx, s, d, c)
			return projected{s.m.ID, bytes, line, err}
		})
	}
	for _, a := range t.analytics {
		jobs = append(jobs, func() projected {
			bytes, line, err := t.projectAnalytics(ctx, a)
			return projected{a.m.ID, bytes, line, err}
		})
	}
	results := make([]projected, len(jobs))
	if err := parallel(len(jobs), func(i int) error {
		results[i] = jobs[i]()
		return results[i].err
	}); err != nil {
		return Projection{}, err
	}

	var p Projection
	measured := map[string]bool{}
	for _, r := range results {
		if r.line != "" {
			measured[r.id] = true
			p.Bytes += r.bytes
			p.Lines = append(p.Lines, r.line)
		}
	}
	for _, id := range t.opts.Monitors {
		if !measured[id] {
			p.Lines = append(p.Lines, id+" not measured ("+t.unmeasured(id)+")")
		}
	}
	p.Share = float64(p.Bytes) / float64(limit)
	return p, nil
}

// parallel calls fn for 0…n-1, quotaConcurrency at a time, and returns the first error in
// index order.
func parallel(n int, fn func(i int) error) error {
	errs := make([]error, n)
	sem := make(chan struct{}, quotaConcurrency)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = fn(i)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// unmeasured says why the monitor id is not in the projection.
func (t *tester) unmeasured(id string) string {
	if m, ok := t.table.Lookup(id); ok && m.API == monitor.Events {
		return "status events: each run reads the last day's events, not sampled here"
	}
	c, ok := t.report.Check("monitor:" + id)
	switch {
	case !ok:
		return "not probed"
	case c.Status == Fail:
		return "its probe failed"
	case c.Status == Skip:
		return "its probe was skipped"
	}
	return "its probe found no data to measure"
}

// projectMetrics fetches one sample page of a metrics monitor's probe window: bytes per data
// point, times the points of a window, times the windows of a month; plus the settle re-check
// of every run (one limit=1 count per monitor, docs/design.md §6) measured by one.
func (t *tester) projectMetrics(ctx context.Context, pr probed, c cadenceOf) (int64, string, error) {
	q := pr.q
	q.PageSize = min(pr.points, quotaSample)
	var bc calm.Counts
	points := 0
	for page, err := range t.client.Counting(&bc).Metrics(ctx, q) {
		if err != nil {
			return 0, "", fmt.Errorf("sample of %s: %w", q.Provider, err)
		}
		points = page.Points
		break
	}
	if points == 0 {
		return 0, "", nil
	}
	perPoint := float64(bc.Wire.Load()) / float64(points)
	month := int64(perPoint * float64(pr.points) * float64(quotaMonth/probeResolution))
	var rc calm.Counts
	if _, err := t.client.Counting(&rc).MetricsCount(ctx, pr.q); err != nil {
		return 0, "", fmt.Errorf("re-check sample of %s: %w", q.Provider, err)
	}
	recheck := rc.Wire.Load() * c.everyRun
	line := fmt.Sprintf("%s %s (%d points a window, %.1f bytes each", q.Provider, gb(month+recheck), pr.points, perPoint)
	if c.everyRun > 0 {
		line += "; re-checks for late data " + gb(recheck)
	}
	return month + recheck, line + ")", nil
}

// projectServed projects a logs or traces monitor, whose API takes one service a request:
//   - the records: one sample page of the probe's range gives the bytes per record; the records
//     of the probed service in that range, taken for each service listed, scaled to a month;
//   - a read per service every run: what an answer costs besides its records (a limit=1 count's
//     bytes less one record's);
//   - the re-check for late data: a limit=1 count per service once per settle horizon;
//   - the service discovery of every run and of every re-check (discoveryAnswer: the bytes of
//     one answer of the monitor's discovery provider).
func (t *tester) projectServed(ctx context.Context, s served, discoveryAnswer int64, c cadenceOf) (int64, string, error) {
	kind, unit := "logs", "log records"
	if s.m.API == monitor.Traces {
		kind, unit = "traces", "spans"
	}
	name := s.m.ID
	if s.m.LogsProvider != "" {
		name += " (provider " + s.m.LogsProvider + ")"
	}
	discovery := discoveryAnswer * (c.runs + c.perHorizon)
	if s.services == 0 {
		return discovery, fmt.Sprintf("%s %s: service discovery only (%s lists no service)", name, gb(discovery), s.m.Provider), nil
	}
	services := int64(s.services)

	var cc calm.Counts
	var err error
	if kind == "logs" {
		_, err = t.client.Counting(&cc).LogsCount(ctx, calm.LogsQuery{ServiceID: s.service.ID, From: s.from, To: s.to, Provider: s.m.LogsProvider})
	} else {
		_, err = t.client.Counting(&cc).TracesCount(ctx, calm.TracesQuery{Provider: s.m.LogsProvider, ServiceID: s.service.ID, From: s.from, To: s.to})
	}
	if err != nil {
		return 0, "", fmt.Errorf("re-check sample of %s: %w", s.m.ID, err)
	}
	count := cc.Wire.Load()
	recheck := count * services * c.perHorizon
	tail := "service discovery " + gb(discovery)
	if c.perHorizon > 0 {
		tail = fmt.Sprintf("re-checks for late data %s (a count per service every %s), %s", gb(recheck), max(c.settle, c.period), tail)
	}

	if s.records == 0 {
		// An empty answer costs what a count of the empty range costs.
		reads := count * services * c.runs
		total := reads + recheck + discovery
		return total, fmt.Sprintf("%s %s (%d services; the bytes of the %s not measured: none in the probe of %s; a read per service and run %s, %s)",
			name, gb(total), s.services, unit, s.service.Name, gb(reads), tail), nil
	}
	var bc calm.Counts
	got := 0
	if kind == "logs" {
		for page, err := range t.client.Counting(&bc).Logs(ctx, calm.LogsQuery{ServiceID: s.service.ID, From: s.from, To: s.to, Provider: s.m.LogsProvider, PageSize: min(s.records, quotaSample)}) {
			if err != nil {
				return 0, "", fmt.Errorf("sample of %s: %w", s.m.ID, err)
			}
			got = page.Records
			break
		}
	} else {
		for page, err := range t.client.Counting(&bc).Traces(ctx, calm.TracesQuery{Provider: s.m.LogsProvider, ServiceID: s.service.ID, From: s.from, To: s.to, PageSize: min(s.records, quotaSample)}) {
			if err != nil {
				return 0, "", fmt.Errorf("sample of %s: %w", s.m.ID, err)
			}
			got = page.Spans
			break
		}
	}
	if got == 0 {
		return 0, "", fmt.Errorf("sample of %s: no %s where the probe found %d", s.m.ID, unit, s.records)
	}
	perRecord := float64(bc.Wire.Load()) / float64(got)
	span := s.to.Sub(s.from)
	records := int64(perRecord * float64(s.records) * float64(services) * float64(quotaMonth/span))
	envelope := max(0, float64(count)-perRecord)
	reads := int64(envelope * float64(services) * float64(c.runs))
	total := records + reads + recheck + discovery
	return total, fmt.Sprintf("%s %s (%d services; %s %s: %d %s in %s of %s, %.1f bytes each, taken for every service; a read per service and run %s, %s)",
		name, gb(total), s.services, unit, gb(records), s.records, unit, span, s.service.Name, perRecord, gb(reads), tail), nil
}

// projectAnalytics asks an analytics monitor's probe window again, counting its bytes: the
// answer of a window, times the windows of a month.
func (t *tester) projectAnalytics(ctx context.Context, a analyticsProbe) (int64, string, error) {
	var bc calm.Counts
	values, err := t.client.Counting(&bc).AnalyticsData(ctx, a.q)
	if err != nil {
		return 0, "", fmt.Errorf("sample of %s: %w", a.m.ID, err)
	}
	if len(values) == 0 {
		return 0, "", nil
	}
	month := bc.Wire.Load() * int64(quotaMonth/probeResolution)
	return month, fmt.Sprintf("%s %s (%d values a window, %.1f bytes each)",
		a.m.ID, gb(month), len(values), float64(bc.Wire.Load())/float64(len(values))), nil
}

// gb writes bytes as decimal gigabytes (the quota's unit), or megabytes below one.
func gb(b int64) string {
	if b < 1_000_000_000 {
		return fmt.Sprintf("%.1f MB", float64(b)/1e6)
	}
	return fmt.Sprintf("%.2f GB", float64(b)/1e9)
}
