package calm

import (
	"context"
	"fmt"
)

// Paging units as MetricsUnit names them.
const (
	UnitPoints = "points" // limit, offset and x-total-count count data points
	UnitRows   = "rows"   // they count rows: one series at one time, with every measure
)

// MetricsCount asks for the first data point of q alone (limit=1) and returns x-total-count:
// how much the series holds, in the tenant's paging unit (MetricsUnit), for the price of one
// small request. It is the cheap question of the collector's checks (docs/design.md, "What a
// complete window satisfies"): has a closed window grown since it was delivered (late data),
// and is a total cut at a cap (the halves of a range hold more than the range). -1 when the
// answer carries no total: nothing can be told from it.
func (c *Client) MetricsCount(ctx context.Context, q MetricsQuery) (int, error) {
	q.PageSize, q.AllPages = 1, false
	for p, err := range c.Metrics(ctx, q) {
		if err != nil {
			return -1, fmt.Errorf("count %w", err)
		}
		return p.Total, nil
	}
	return -1, nil
}

// MetricsUnit says what the tenant's metrics paging counts as far as the client has learned
// it (UnitPoints, UnitRows), "" while unknown.
func (c *Client) MetricsUnit() string {
	switch pageUnit(c.metricsUnit.Load()) {
	case unitItems:
		return UnitPoints
	case unitRows:
		return UnitRows
	}
	return ""
}
