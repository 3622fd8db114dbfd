package collect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/record"
)

// minLogsRange is the shortest time range the logs monitor asks for: a range this short that
// is still over the API's count cap fails the span (never skipped).
const minLogsRange = time.Minute

// maxLogsRange is the longest time range of one logs request: a live-tenant report caps a logs
// query at 60 minutes (docs/cloud-alm-api.md), so longer spans are asked for hour by hour.
const maxLogsRange = time.Hour

// logs is the raw exception logs monitor (GET /api/calm-logs/v1/logs, docs/design.md §1.4). It is
// windowed like the metrics monitors: the runner hands it spans, delivers windows and moves
// checkpoints. The API wants one serviceId per call, so Fetch discovers the services first and
// asks for each service's logs of the whole range.
//
// When the API refuses a range because it holds more records than it answers at once
// (calm.ErrOverLimit), the range is cut in two and each half asked for, recursively: at
// resolution boundaries while the range is longer than the resolution, then at minute
// boundaries, down to one minute. A one-minute range still over the cap is an error naming
// the service and the range: the span is not delivered and its checkpoint stays.
//
// A range's records are held until its whole series has been read, so a series cut short by
// the cap emits nothing twice; a log line served twice within a span (same content id) is
// emitted once.
type logs struct{ info Info }

func (m logs) Info() Info { return m.info }

func (m logs) Fetch(ctx context.Context, c Client, q Query, emit func(record.Record)) error {
	return newLogsFetch(c, q, m.info, emit).run(ctx, m.info.Provider, q)
}

func (logs) countsPerService() {}

// Count is the sum of the services' x-total-count for q, from one limit=1 request per service
// and hour (-1: a service sent none, or the client cannot count): the question of the settle
// re-check and the cut check (invariants.go), asked as Fetch asks for the records.
func (m logs) Count(ctx context.Context, c Client, q Query) (int, error) {
	rc, ok := c.(rawCounter)
	if !ok {
		return -1, nil
	}
	return newLogsFetch(c, q, m.info, nil).count(ctx, rc, m.info.Provider, q)
}

// rawCounter is the cheap count of *calm.Client for the logs and traces APIs (a limit=1
// request's x-total-count); a client without it is not asked, and the checks that need a count
// are left out.
type rawCounter interface {
	LogsCount(ctx context.Context, q calm.LogsQuery) (int, error)
	TracesCount(ctx context.Context, q calm.TracesQuery) (int, error)
}

func newLogsFetch(c Client, q Query, in Info, emit func(record.Record)) logsFetch {
	f := logsFetch{c: c, tenant: q.Tenant, monitor: in.ID, provider: in.LogsProvider,
		res: resolutionOf(q.Resolution), emit: emit, tally: q.tally}
	f.read, f.countOne = f.series, f.logsCount
	if in.API == monitor.Traces {
		f.read, f.countOne = f.spans, f.tracesCount
	}
	return f
}

// run discovers the services of the analytics provider and emits each service's records of
// [q.From, q.To), asked for at most maxLogsRange at a time; a record read twice within the
// span (same id) is emitted once.
func (f logsFetch) run(ctx context.Context, provider string, q Query) error {
	services, err := f.c.Services(ctx, provider)
	if err != nil {
		return fmt.Errorf("discover %s services: %w", provider, err)
	}
	seen := map[string]bool{}
	emit := f.emit
	f.emit = func(r record.Record) {
		if !seen[r.ID] {
			seen[r.ID] = true
			emit(r)
		}
	}
	for _, s := range services {
		for from := q.From; from.Before(q.To); from = from.Add(maxLogsRange) {
			r := Range{From: from, To: minTime(from.Add(maxLogsRange), q.To)}
			if err := f.rangeOf(ctx, s, r); err != nil {
				return fmt.Errorf("service %s (%s): %w", s.Name, s.ID, err)
			}
		}
	}
	return nil
}

// count sums countOne of each service's ranges of [q.From, q.To), at most maxLogsRange a
// time; -1 as soon as a count is -1, or the API refuses to count a range (ErrOverLimit even for
// limit=1: nothing can be told from it).
func (f logsFetch) count(ctx context.Context, rc rawCounter, provider string, q Query) (int, error) {
	services, err := f.c.Services(ctx, provider)
	if err != nil {
		return -1, fmt.Errorf("discover %s services: %w", provider, err)
	}
	total := 0
	for _, s := range services {
		for from := q.From; from.Before(q.To); from = from.Add(maxLogsRange) {
			n, err := f.countOne(ctx, rc, s, Range{From: from, To: minTime(from.Add(maxLogsRange), q.To)})
			if errors.Is(err, calm.ErrOverLimit) {
				return -1, nil
			}
			if err != nil || n < 0 {
				return -1, err
			}
			total += n
		}
	}
	return total, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// logsFetch is one Fetch of a logs or traces monitor: both APIs are read alike (one service a
// request, at most an hour, halved while over the count cap).
type logsFetch struct {
	c               Client
	tenant, monitor string
	provider        string        // the logs or traces API's provider parameter
	res             time.Duration // window size, 0 when unknown
	emit            func(record.Record)
	// tally, when set, gathers what each request series says of itself (invariants.go).
	tally *tally
	// read reads one request series of a service's range and converts its records; countOne
	// counts a service's range with one limit=1 request. Both are the logs API's, or the traces
	// API's for the traces monitor (newLogsFetch).
	read     func(ctx context.Context, s calm.Service, r Range) ([]record.Record, error)
	countOne func(ctx context.Context, rc rawCounter, s calm.Service, r Range) (int, error)
}

// rangeOf emits the service's records of r, splitting r while the API answers ErrOverLimit.
func (f logsFetch) rangeOf(ctx context.Context, s calm.Service, r Range) error {
	recs, err := f.read(ctx, s, r)
	if err == nil {
		for _, rec := range recs {
			f.emit(rec)
		}
		return nil
	}
	if !errors.Is(err, calm.ErrOverLimit) {
		return err
	}
	a, b, ok := halves(r, f.res)
	if !ok {
		return fmt.Errorf("%s %s: the API holds more records for this range than it answers at once, even for a range of %s, the shortest asked for; nothing of the span is delivered: %w",
			f.monitor, fmtRangeSeconds(r), r.To.Sub(r.From), err)
	}
	slog.DebugContext(ctx, "range over the API's count cap; asking for its halves", "monitor", f.monitor, "service", s.ID, "range", fmtRangeSeconds(r), "split", a.To)
	if err := f.rangeOf(ctx, s, a); err != nil {
		return err
	}
	return f.rangeOf(ctx, s, b)
}

// series reads one paged request series and converts its records.
func (f logsFetch) series(ctx context.Context, s calm.Service, r Range) ([]record.Record, error) {
	var recs []record.Record
	sc := seriesCount{total: -1}
	for page, err := range f.c.Logs(ctx, calm.LogsQuery{ServiceID: s.ID, From: r.From, To: r.To, Provider: f.provider}) {
		if err != nil {
			return nil, err
		}
		sc.see(page.Total, page.Limit, page.Records)
		_ = record.FromLogs(f.tenant, f.monitor, page.Logs, func(rec record.Record) error {
			recs = append(recs, rec)
			return nil
		})
	}
	f.tally.add(sc)
	return recs, nil
}

// logsCount is x-total-count of a limit=1 request of the logs API.
func (f logsFetch) logsCount(ctx context.Context, rc rawCounter, s calm.Service, r Range) (int, error) {
	return rc.LogsCount(ctx, calm.LogsQuery{ServiceID: s.ID, From: r.From, To: r.To, Provider: f.provider})
}

// halves cuts r in two near its middle: at a resolution boundary when r is longer than the
// resolution, else at a minute boundary, else (ranges not on whole minutes) at a second, the
// API's precision. ok is false when r is minLogsRange or shorter.
func halves(r Range, res time.Duration) (a, b Range, ok bool) {
	d := r.To.Sub(r.From)
	if d <= minLogsRange {
		return Range{}, Range{}, false
	}
	mid := r.From.Add(d / 2)
	for _, unit := range []time.Duration{res, time.Minute, time.Second} {
		if unit <= 0 || d <= unit {
			continue
		}
		if m := mid.Truncate(unit); m.After(r.From) && m.Before(r.To) {
			return Range{From: r.From, To: m}, Range{From: m, To: r.To}, true
		}
	}
	return Range{}, Range{}, false
}

// resolutionOf is the window size of a metrics API resolution parameter ("5Mi"), 0 if unknown.
func resolutionOf(param string) time.Duration {
	for d, p := range resolutions {
		if p == param {
			return d
		}
	}
	return 0
}

func fmtRangeSeconds(r Range) string {
	return r.From.UTC().Format("2006-01-02T15:04:05Z") + "–" + r.To.UTC().Format("2006-01-02T15:04:05Z")
}
