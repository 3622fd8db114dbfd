package conntest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/quota"
)

// Defaults of the quota projection (docs/transfer.md).
const (
	DefaultSchedulePeriod = 5 * time.Minute
	// quotaMonth is the month of the projection: 30 days.
	quotaMonth = 30 * 24 * time.Hour
	// quotaSample is the most data points the sample page of a monitor asks for.
	quotaSample = 2000
)

// probed is a metrics monitor that answered its probe with data: the probe's query (one
// window at the collector's resolution) and the data points the window holds.
type probed struct {
	q      calm.MetricsQuery
	points int
}

// Projection is what the enabled metrics monitors are expected to fetch in a month.
type Projection struct {
	Bytes int64   // on the wire, as the tenant serves them (binary or JSON, gzip'd or not)
	Share float64 // of the quota
	Lines []string
}

// checkQuota projects the monthly API transfer of the metrics monitors that answered with
// data: for each, one sample page of its probe window gives the bytes per data point on the
// wire, times the points of a window, times the windows of a month. Runs every
// SchedulePeriod collect every window once, so the period changes the requests, not the
// points; it is named in the detail. Warns above quota.WarnShare of QuotaBytes.
func (t *tester) checkQuota(ctx context.Context) Check {
	if t.client == nil || len(t.probed) == 0 {
		return skip("no metrics monitor answered with data points to measure")
	}
	limit := t.opts.QuotaBytes
	if limit <= 0 {
		limit = quota.DefaultBytes
	}
	period := t.opts.SchedulePeriod
	if period <= 0 {
		period = DefaultSchedulePeriod
	}
	p, err := t.project(ctx, limit, period)
	if err != nil {
		return Check{Status: Warn, Detail: "could not measure the transfer: " + err.Error(),
			Hint: "run the test again; the collection itself is not affected"}
	}
	detail := fmt.Sprintf("projected %s a month (%.1f %% of the %s quota) at one run every %s: %s",
		gb(p.Bytes), 100*p.Share, gb(limit), period, strings.Join(p.Lines, "; "))
	if p.Share > quota.WarnShare {
		return Check{Status: Warn, Detail: detail, Hint: fmt.Sprintf("above %.0f %% of the fair-use quota: enable fewer monitors, "+
			"collect at a coarser resolution, or raise the quota setting if the tenant has bought more", 100*quota.WarnShare)}
	}
	return Check{Status: Pass, Detail: detail}
}

// project fetches one sample page per probed monitor and projects the month, with the settle
// re-check of every run (one limit=1 count per monitor, docs/design.md §6) measured by one.
func (t *tester) project(ctx context.Context, limit int64, period time.Duration) (Projection, error) {
	var p Projection
	windows := int64(quotaMonth / probeResolution)
	runs := int64(quotaMonth / period)
	for _, pr := range t.probed {
		q := pr.q
		q.PageSize = min(pr.points, quotaSample)
		var bc calm.Counts
		points := 0
		for page, err := range t.client.Counting(&bc).Metrics(ctx, q) {
			if err != nil {
				return Projection{}, fmt.Errorf("sample of %s: %w", q.Provider, err)
			}
			points = page.Points
			break
		}
		if points == 0 {
			continue
		}
		perPoint := float64(bc.Wire.Load()) / float64(points)
		month := int64(perPoint * float64(pr.points) * float64(windows))
		var rc calm.Counts
		if _, err := t.client.Counting(&rc).MetricsCount(ctx, pr.q); err != nil {
			return Projection{}, fmt.Errorf("re-check sample of %s: %w", q.Provider, err)
		}
		recheck := rc.Wire.Load() * runs
		p.Bytes += month + recheck
		p.Lines = append(p.Lines, fmt.Sprintf("%s %s (%d points a window, %.1f bytes each; re-checks for late data %s)",
			q.Provider, gb(month+recheck), pr.points, perPoint, gb(recheck)))
	}
	p.Share = float64(p.Bytes) / float64(limit)
	return p, nil
}

// gb writes bytes as decimal gigabytes (the quota's unit), or megabytes below one.
func gb(b int64) string {
	if b < 1_000_000_000 {
		return fmt.Sprintf("%.1f MB", float64(b)/1e6)
	}
	return fmt.Sprintf("%.2f GB", float64(b)/1e9)
}
