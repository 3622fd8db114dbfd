package collect

import (
	"context"
	"time"

	"github.com/calm-collector/calm-collector/internal/quota"
	"github.com/calm-collector/calm-collector/internal/state"
)

// QuotaUse is a tenant's API transfer in the current UTC month (the run's clock) and its
// projection to the whole month (docs/transfer.md, "The quota as a budget").
type QuotaUse struct {
	Month            string `json:"month"` // 2026-12
	MonthToDateBytes int64  `json:"monthToDateBytes"`
	// ProjectedBytes is MonthToDateBytes divided by the elapsed fraction of the month.
	ProjectedBytes int64 `json:"projectedBytes"`
	QuotaBytes     int64 `json:"quotaBytes"`
	// ProjectionPercent is ProjectedBytes in percent of QuotaBytes: the EMF metric
	// QuotaProjectionPercent, which the stack alarms on above quota.WarnShare.
	ProjectionPercent float64 `json:"projectionPercent"`
}

// minElapsed keeps a run in the first minute of a month from dividing by (almost) nothing.
const minElapsed = time.Minute

// ProjectMonth is the bytes of a month, projected from those of the month up to now: bytes
// divided by the elapsed fraction of now's UTC month (at least a minute of it).
func ProjectMonth(bytes int64, now time.Time) int64 {
	now = now.UTC()
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	month := start.AddDate(0, 1, 0).Sub(start)
	elapsed := max(now.Sub(start), minElapsed)
	return int64(float64(bytes) * float64(month) / float64(elapsed))
}

// monthToDate adds the run's API bytes to the tenant's month in the store (keyed by the run's
// UTC month) and projects the month. Above quota.WarnShare of the quota it logs a warning
// naming the tenant. A store that cannot keep usage, or fails to, gives nil (logged): the run's
// own apiBytes still report it.
func (r *Runner) monthToDate(ctx context.Context, now time.Time, bytes int64) *QuotaUse {
	us, ok := r.Store.(state.UsageStore)
	if !ok {
		return nil
	}
	u, err := us.AddUsage(ctx, r.Tenant, state.UsageMonth(now), bytes)
	if err != nil {
		r.logger().Warn("add the run's API bytes to the month's; the quota projection is left out of this run", "tenant", r.Tenant, "err", err)
		return nil
	}
	limit := r.Config.APIQuotaBytes
	if limit <= 0 {
		limit = quota.DefaultBytes
	}
	q := &QuotaUse{Month: u.Month, MonthToDateBytes: u.APIBytes, ProjectedBytes: ProjectMonth(u.APIBytes, now), QuotaBytes: limit}
	q.ProjectionPercent = 100 * float64(q.ProjectedBytes) / float64(limit)
	if q.ProjectionPercent > 100*quota.WarnShare {
		r.logger().Warn("API transfer projected to the month is above the quota share: collect fewer monitors or at a coarser resolution, or raise CALM_API_QUOTA_GB if the tenant has bought more",
			"tenant", r.Tenant, "month", q.Month, "monthToDateBytes", q.MonthToDateBytes, "projectedBytes", q.ProjectedBytes,
			"quotaBytes", limit, "projectionPercent", q.ProjectionPercent, "warnAbovePercent", 100*quota.WarnShare)
	}
	return q
}
