package collect

import (
	"context"
	"fmt"
	"maps"

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
		Period:     q.Shape.period(q.From, q.Now), // "" while from/to are honoured
	}
	mq.Dimensions, mq.Metrics = m.info.Columns()
	return mq
}

func (m metrics) Fetch(ctx context.Context, c Client, q Query, emit func(record.Record)) error {
	return fetchMetrics(ctx, c, m.query(q), q, m.info.ID, emit)
}

// Count is the series' x-total-count for q, from one limit=1 request.
func (m metrics) Count(ctx context.Context, c Client, q Query) (int, error) {
	mc, ok := c.(metricsCounter)
	mq := m.query(q)
	if !ok || mq.Period != "" { // a period does not count the range
		return -1, nil
	}
	return mc.MetricsCount(ctx, mq)
}

// fetchMetrics runs one paged series and converts every data point into a record (a metric
// not named after a measure asked for is named after the measure in its description:
// record.FromMetricsOf). What the series says of itself goes to q's tally.
func fetchMetrics(ctx context.Context, c Client, mq calm.MetricsQuery, q Query, monitor string, emit func(record.Record)) error {
	mq.AllPages = true // every page is read: the second may be asked for while the first is decoded
	sc := seriesCount{total: -1}
	for page, err := range c.Metrics(ctx, mq) {
		if err != nil {
			return err
		}
		sc.total, sc.limit = page.Total, page.Limit
		sc.points += page.Points
		sc.rows += page.Rows
		_ = record.FromMetricsOf(q.Tenant, monitor, mq.Metrics, page.Metrics, func(r record.Record) error { emit(r); return nil })
	}
	q.tally.add(sc)
	return nil
}

// batched is a metrics monitor whose queries name at most MaxServices services (Real User
// Monitoring: 5): Fetch discovers the services first and queries them in batches, all for the
// same range.
//
// How several service ids are sent is learned per tenant (docs/cloud-alm-api.md, "Service
// lists"): while it is not known, every service is asked for alone, and the first batch in
// which two or more services had data is asked for again as a list (learnServiceList).
type batched struct{ metrics }

func (m batched) Fetch(ctx context.Context, c Client, q Query, emit func(record.Record)) error {
	services, err := c.Services(ctx, m.info.Provider)
	if err != nil {
		return fmt.Errorf("discover %s services: %w", m.info.Provider, err)
	}
	mode, learn := q.Shape.serviceList(q.Now)
	var group serviceGroup // the services asked for alone since the last full batch
	for start, size := 0, m.batchSize(mode); start < len(services); start += size {
		batch := services[start:min(start+size, len(services))]
		mq := m.batchQuery(q, mode, batch)
		see := emit
		if learn {
			see = group.add(batch[0], emit)
		}
		if err := fetchMetrics(ctx, c, mq, q, m.info.ID, see); err != nil {
			return fmt.Errorf("services %d-%d of %d: %w", start+1, start+len(batch), len(services), err)
		}
		if learn && (len(group.services) == m.info.MaxServices || start+1 == len(services)) {
			learn = !m.learnServiceList(ctx, c, q, group)
			group = serviceGroup{}
		}
	}
	return nil
}

// Count is the sum of the batches' x-total-count for q: one limit=1 request per batch, the
// batches Fetch asks for. Where that is one service a request (the tenant's service-list form
// not known, or not a list) and there are more services than fit a batch, a cheap count
// (Query.cheap: the settle re-check of every run) is not made (-1): it would cost a request per
// service.
func (m batched) Count(ctx context.Context, c Client, q Query) (int, error) {
	mc, ok := c.(metricsCounter)
	if !ok || m.query(q).Period != "" { // a period does not count the range
		return -1, nil
	}
	services, err := c.Services(ctx, m.info.Provider)
	mode, _ := q.Shape.serviceList(q.Now)
	if err != nil || q.cheap && mode == ListSingle && len(services) > m.info.MaxServices {
		return -1, err
	}
	total := 0
	for start, size := 0, m.batchSize(mode); start < len(services); start += size {
		batch := services[start:min(start+size, len(services))]
		n, err := mc.MetricsCount(ctx, m.batchQuery(q, mode, batch))
		if err != nil || n < 0 {
			return -1, err
		}
		total += n
	}
	return total, nil
}

// batchSize is how many services one query names under the service-list form mode.
func (m batched) batchSize(mode string) int {
	if mode == ListSingle {
		return 1
	}
	return m.info.MaxServices
}

// batchQuery is the query of q for a batch of services under the service-list form mode.
func (m batched) batchQuery(q Query, mode string, batch []calm.Service) calm.MetricsQuery {
	mq := m.query(q)
	mq.RepeatServiceIDs = mode == ListRepeat
	for _, s := range batch {
		mq.ServiceIDs = append(mq.ServiceIDs, s.ID)
	}
	return mq
}

// serviceGroup is up to MaxServices services asked for alone, with the ids of their records (a
// pager may read a record twice) and how many of them had data.
type serviceGroup struct {
	services []calm.Service
	ids      map[string]bool
	withData int
}

// add adds a service and returns the emit of its request series, which notes its records.
func (g *serviceGroup) add(s calm.Service, emit func(record.Record)) func(record.Record) {
	g.services = append(g.services, s)
	if g.ids == nil {
		g.ids = map[string]bool{}
	}
	had := false
	return func(r record.Record) {
		if !had {
			had = true
			g.withData++
		}
		g.ids[r.ID] = true
		emit(r)
	}
}

// learnServiceList asks for a group of services, each of which was asked for alone, as one
// comma list and, failing that, as repeated serviceId parameters: the form whose answer holds
// exactly the records of the single requests is the tenant's. Neither: one service a request is
// remembered, and tried again after ShapeRetryAfter. A group in which fewer than two services
// had data tells nothing: it reports false.
func (m batched) learnServiceList(ctx context.Context, c Client, q Query, g serviceGroup) bool {
	if g.withData < 2 {
		return false
	}
	for _, mode := range []string{ListComma, ListRepeat} {
		mq := m.query(q)
		mq.RepeatServiceIDs = mode == ListRepeat
		for _, s := range g.services {
			mq.ServiceIDs = append(mq.ServiceIDs, s.ID)
		}
		ids := map[string]bool{}
		q.tally = nil // a probe of the form, not a series of the range
		err := fetchMetrics(ctx, c, mq, q, m.info.ID, func(r record.Record) { ids[r.ID] = true })
		if ctx.Err() != nil {
			return false
		}
		if err == nil && maps.Equal(ids, g.ids) {
			q.Shape.learnServiceList(mode, q.Now)
			return true
		}
	}
	q.Shape.learnServiceList(ListSingle, q.Now)
	return true
}
