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
	res := q.Resolution
	if res == "" {
		res = DefaultResolution
	}
	if q.Provider == "" || !q.To.After(q.From) {
		return -1, fmt.Errorf("count metrics %s %s–%s: provider must be set and to after from",
			q.Provider, q.From.UTC().Format(TimeLayout), q.To.UTC().Format(TimeLayout))
	}
	format := FormatJSON
	if c.Binary() {
		format = FormatBinary
	}
	resp, err := c.metricsWhole(ctx, q, res, 1, 0, format)
	if err != nil && format == FormatBinary && refusesFormat(err) {
		resp, err = c.metricsWhole(ctx, q, res, 1, 0, FormatJSON)
	}
	if err != nil {
		return -1, fmt.Errorf("count metrics %s %s–%s: %w", q.Provider, q.From.UTC().Format(TimeLayout), q.To.UTC().Format(TimeLayout), err)
	}
	return headerTotal(resp.header), nil
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
