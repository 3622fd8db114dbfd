package calm

import (
	"context"
	"fmt"
)

// LogsCount asks for the first log record of q alone (limit=1) and returns x-total-count: how
// many records the service holds in the range, for the price of one small request (MetricsCount
// is the same question of the metrics API). -1 when the answer carries no total. A range over
// the API's count cap is an error matching ErrOverLimit.
func (c *Client) LogsCount(ctx context.Context, q LogsQuery) (int, error) {
	what := fmt.Sprintf("count logs of service %s %s–%s", q.ServiceID, q.From.UTC().Format(TimeLayout), q.To.UTC().Format(TimeLayout))
	if q.ServiceID == "" || !q.To.After(q.From) {
		return -1, fmt.Errorf("%s: serviceId must be set and to after from", what)
	}
	p, err := c.logsPage(ctx, q, 1, 0)
	if err != nil {
		return -1, fmt.Errorf("%s: %w", what, err)
	}
	return p.total, nil
}

// TracesCount is LogsCount for the traces API: x-total-count of a limit=1 request.
func (c *Client) TracesCount(ctx context.Context, q TracesQuery) (int, error) {
	what := fmt.Sprintf("count traces of provider %s service %s %s–%s", q.Provider, q.ServiceID, q.From.UTC().Format(TimeLayout), q.To.UTC().Format(TimeLayout))
	if q.Provider == "" || !q.To.After(q.From) {
		return -1, fmt.Errorf("%s: provider must be set and to after from", what)
	}
	p, err := c.tracesPage(ctx, q, 1, 0)
	if err != nil {
		return -1, fmt.Errorf("%s: %w", what, err)
	}
	return p.total, nil
}
