package collect

import (
	"context"
	"fmt"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/record"
)

// metrics is a monitor read from the raw-data metrics API: one paged request series per Fetch,
// asking for the table's dimensions and measures.
type metrics struct{ info Info }

func (m metrics) Info() Info { return m.info }

func (m metrics) query(q Query) calm.MetricsQuery {
	mq := calm.MetricsQuery{
		Provider:   m.info.ID,
		From:       q.From,
		To:         q.To,
		Resolution: q.Resolution,
		LastAsked:  q.LastAsked,
	}
	mq.Dimensions, mq.Metrics = m.info.Columns()
	return mq
}

func (m metrics) Fetch(ctx context.Context, c Client, q Query, emit func(record.Record)) error {
	return fetchMetrics(ctx, c, m.query(q), q.Tenant, m.info.ID, emit)
}

// fetchMetrics runs one paged series and converts every data point into a record (a metric
// not named after a measure asked for is named after the measure in its description:
// record.FromMetricsOf).
func fetchMetrics(ctx context.Context, c Client, mq calm.MetricsQuery, tenant, monitor string, emit func(record.Record)) error {
	mq.AllPages = true // every page is read: the second may be asked for while the first is decoded
	for page, err := range c.Metrics(ctx, mq) {
		if err != nil {
			return err
		}
		_ = record.FromMetricsOf(tenant, monitor, mq.Metrics, page.Metrics, func(r record.Record) error { emit(r); return nil })
	}
	return nil
}

// batched is a metrics monitor whose queries name at most MaxServices services (Real User
// Monitoring: 5): Fetch discovers the services first and queries them in batches, all for the
// same range.
type batched struct{ metrics }

func (m batched) Fetch(ctx context.Context, c Client, q Query, emit func(record.Record)) error {
	services, err := c.Services(ctx, m.info.Provider)
	if err != nil {
		return fmt.Errorf("discover %s services: %w", m.info.Provider, err)
	}
	for start := 0; start < len(services); start += m.info.MaxServices {
		batch := services[start:min(start+m.info.MaxServices, len(services))]
		mq := m.query(q)
		if start+len(batch) < len(services) {
			mq.LastAsked = nil // only the last batch's series is the last
		}
		for _, s := range batch {
			mq.ServiceIDs = append(mq.ServiceIDs, s.ID)
		}
		if err := fetchMetrics(ctx, c, mq, q.Tenant, m.info.ID, emit); err != nil {
			return fmt.Errorf("services %d-%d of %d: %w", start+1, start+len(batch), len(services), err)
		}
	}
	return nil
}
