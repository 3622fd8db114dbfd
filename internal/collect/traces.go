package collect

import (
	"context"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/record"
)

// The traces monitor (GET /api/calm-traces/v1/traces, docs/cloud-alm-api.md
// "Traces"): Real User Monitoring's spans, one record of kind span each (record.FromTraces).
// It is windowed like every monitor and read as the logs monitor reads its API (SAP publishes
// no parameters for the traces API, the logs API's conventions are assumed): one service a
// request, at most an hour, a range over the count cap asked for in halves, a series held
// until it is read whole, a span read twice within a span of windows emitted once (its id is
// its trace and span id). A span belongs to the window its start time falls in.
//
// So it is a logs monitor (logs.go, monitorsOf) whose Fetch reads the traces API: newLogsFetch picks the
// reader and the count of the monitor's API.

// tracesCount is x-total-count of a limit=1 request of the traces API.
func (f logsFetch) tracesCount(ctx context.Context, rc rawCounter, s calm.Service, r Range) (int, error) {
	return rc.TracesCount(ctx, calm.TracesQuery{Provider: f.provider, ServiceID: s.ID, From: r.From, To: r.To})
}

// spans reads one paged request series of the traces API and converts its spans.
func (f logsFetch) spans(ctx context.Context, s calm.Service, r Range) ([]record.Record, error) {
	var recs []record.Record
	sc := seriesCount{total: -1}
	for page, err := range f.c.Traces(ctx, calm.TracesQuery{Provider: f.provider, ServiceID: s.ID, From: r.From, To: r.To}) {
		if err != nil {
			return nil, err
		}
		sc.see(page.Total, page.Limit, page.Spans)
		_ = record.FromTraces(f.tenant, f.monitor, page.Traces, func(rec record.Record) error {
			recs = append(recs, rec)
			return nil
		})
	}
	f.tally.add(sc)
	return recs, nil
}
