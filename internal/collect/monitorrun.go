package collect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/sink"
	"github.com/calm-collector/calm-collector/internal/state"
)

// monitorRun is one monitor's part of a run.
type monitorRun struct {
	*Runner
	// Client is the run's client counting this monitor's calls (calm.Client.Counting).
	Client Client
	m      Monitor
	id     string
	log    *slog.Logger
	stopAt time.Time
	sum    MonitorSummary
	shape  *tenantShape // what the run learned of the tenant, shared by its monitors
	// cap is the size a tenant cut a result set at, as learned (0: none); kept in the
	// checkpoint between runs.
	cap atomic.Int64
}

func (r *Runner) runMonitor(ctx context.Context, m Monitor, req Request, now, stopAt time.Time, shape *tenantShape) MonitorSummary {
	start := r.wallNow()
	var counts calm.Counts
	mr := &monitorRun{Runner: r, Client: r.Client, m: m, id: m.Info().ID, stopAt: stopAt, shape: shape}
	if c, ok := r.Client.(*calm.Client); ok {
		mr.Client = c.Counting(&counts)
	}
	mr.log = r.logger().With("monitor", mr.id, "tenant", r.Tenant)
	mr.sum.Monitor = mr.id
	err := mr.checkTenantHost(ctx)
	switch {
	case err != nil:
	case m.Info().API == monitor.Events && req.Backfill != nil:
		err = mr.backfillEvents(ctx, *req.Backfill)
	case m.Info().API == monitor.Events:
		err = mr.scheduledEvents(ctx, now)
	case req.Backfill != nil:
		err = mr.backfill(ctx, planBackfill(*req.Backfill, r.Config.Resolution))
	default:
		err = mr.scheduled(ctx, now)
	}
	if inv := invariantOf(err); inv != "" {
		// Not an error of the monitor: what the API answered is not complete. The window is
		// held (its checkpoint stays) and read again next run; the run is incomplete.
		mr.sum.Invariant, mr.sum.Detail = inv, err.Error()
		mr.log.Warn("window held: it fails an invariant of a complete window", "invariant", inv, "err", err, "windows", mr.sum.Windows)
	} else if err != nil {
		mr.sum.Error = err.Error()
		mr.log.Error("monitor failed", "err", err, "windows", mr.sum.Windows)
	}
	mr.sum.Requests, mr.sum.Retries, mr.sum.Throttled = counts.Requests.Load(), counts.Retries.Load(), counts.Throttled.Load()
	mr.sum.APIBytes, mr.sum.APIBytesDecoded = counts.Wire.Load(), counts.Decoded.Load()
	if req.Backfill == nil && !mr.sum.To.IsZero() {
		mr.sum.LagSeconds = max(0, now.Sub(mr.sum.To).Seconds())
	}
	mr.sum.DurationMs = r.wallNow().Sub(start).Milliseconds()
	return mr.sum
}

// nearDeadline reports whether new work must not start any more.
func (mr *monitorRun) nearDeadline() bool {
	return !mr.stopAt.IsZero() && !mr.wallNow().Before(mr.stopAt)
}

// scheduled collects a windowed monitor from its checkpoint up to floor(now−lag).
func (mr *monitorRun) scheduled(ctx context.Context, now time.Time) (err error) {
	cp, ok, err := mr.Store.Get(ctx, mr.Tenant, mr.id)
	if err != nil {
		return fmt.Errorf("read checkpoint: %w", err)
	}
	plan := planScheduled(cp.Next, ok, now, mr.Config)
	mr.sum.Pending = plan.Limited
	if !ok {
		cp = state.Checkpoint{Tenant: mr.Tenant, Monitor: mr.id, Next: plan.From}
	}
	mr.cap.Store(int64(cp.Cap))
	cp.Host = mr.Host
	cp.LastRunAt = now
	defer func() {
		// Record how the run went, whatever happened; Next stays where the windows left it.
		cp.UpdatedAt = mr.wallNow().UTC()
		cp.LastPoints, cp.LastWindows = mr.sum.Points, mr.sum.Windows
		cp.Cap = int(mr.cap.Load())
		cp.LastError = ""
		if err != nil {
			cp.LastError = err.Error()
		} else {
			cp.LastSuccess = now
		}
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if perr := mr.Store.Put(pctx, cp); perr != nil {
			err = errors.Join(err, fmt.Errorf("save checkpoint: %w", perr))
		}
	}()
	mr.sum.From, mr.sum.To = plan.From, plan.From
	if plan.Empty() {
		mr.sum.To = cp.Next
		return nil
	}
	if err := mr.probeFromTo(ctx, now); err != nil {
		return err
	}
	oldNext := cp.Next
	sctx, stopSettle := context.WithCancel(ctx)
	sc := mr.startSettle(sctx, now, oldNext, plan.To) // asked beside the windows' reading
	defer func() { stopSettle(); sc.wait() }()
	err = mr.windowsWith(ctx, plan.Range, func(w Range, series []record.Run) error {
		if mr.settling(w.To, plan.To) {
			if err := mr.putMark(ctx, now, markOf(w.From, series)); err != nil {
				return err
			}
		}
		cp.Next = w.To
		cp.Cap = int(mr.cap.Load())
		cp.UpdatedAt = mr.wallNow().UTC()
		if err := mr.Store.Put(ctx, cp); err != nil {
			return fmt.Errorf("save checkpoint %s: %w", w.To.Format(time.RFC3339), err)
		}
		return nil
	})
	if err != nil || mr.nearDeadline() {
		return err
	}
	delay, err := mr.settle(ctx, now, sc)
	if delay > 0 {
		cp.Delay = delay
	}
	return err
}

// backfill collects rng window by window and saves no checkpoint.
func (mr *monitorRun) backfill(ctx context.Context, rng Range) error {
	mr.sum.From, mr.sum.To = rng.From, rng.From
	if err := mr.probeFromTo(ctx, mr.now()); err != nil {
		return err
	}
	return mr.windowsWith(ctx, rng, func(Range, []record.Run) error { return nil })
}

// windowsWith fetches rng span by span (one request series each), splits the records into
// windows and delivers each window to every sink, then calls accepted(window).
//
// While a span is delivered, the next span's request series runs (in a goroutine): the
// windows' delivery is off the critical path of the requests. At most two spans are held;
// spans are delivered in order, each only after the one before it was accepted; the deadline
// is checked before a span's series starts, as before delivering a span fetched ahead; every
// return cancels the series running ahead and waits for it.
func (mr *monitorRun) windowsWith(ctx context.Context, rng Range, accepted func(Range, []record.Run) error) error {
	res := mr.Config.Resolution
	total := rng.To.Sub(rng.From)
	spans := split(rng, mr.Config.Span)
	fctx, cancel := context.WithCancel(ctx)
	var ahead *spanFetch
	defer func() {
		cancel()
		if ahead != nil {
			<-ahead.done
		}
	}()
	for k, span := range spans {
		if mr.nearDeadline() {
			mr.sum.Stopped = "deadline"
			mr.log.Warn("deadline near: stopping; the rest follows next run", "next", span.From)
			return nil
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("stopped before %s: %w", span.From.Format(time.RFC3339), context.Cause(ctx))
		}
		f := ahead
		if f == nil {
			f = mr.startSpan(fctx, span)
		}
		ahead = mr.awaitSpan(fctx, f, spans[k+1:])
		recs, err := f.recs, f.err
		if recs != nil {
			mr.sum.Dropped += recs.dropped
			mr.sum.Repeats += recs.repeats
			mr.sum.Collisions += recs.collisions
		}
		if errors.Is(err, errFetchCut) {
			mr.sum.Stopped = "deadline"
			mr.log.Warn("deadline near: a request series was cut short; its windows follow next run", "next", span.From)
			return nil
		}
		if err != nil {
			return fmt.Errorf("collect %s %s: %w", mr.id, fmtRange(span), err)
		}
		for i, w := range split(span, res) {
			b := sink.Batch{Tenant: mr.Tenant, Monitor: mr.id, From: w.From, To: w.To, Series: recs.batch(i)}
			if err := mr.deliver(ctx, b); err != nil {
				return fmt.Errorf("deliver %s %s: %w", mr.id, fmtRange(w), err)
			}
			if err := accepted(w, b.Series); err != nil {
				return err
			}
			mr.sum.Windows++
			mr.sum.Points += b.Len()
			mr.sum.To = w.To
		}
		if mr.Progress != nil {
			mr.Progress(Progress{Monitor: mr.id, Done: mr.sum.To.Sub(rng.From), Total: total, Windows: mr.sum.Windows, Points: mr.sum.Points})
		}
	}
	return nil
}

// spanFetch is one span's request series running in its own goroutine; done closes when
// recs and err are set. handoff closes when the client says the next series may start
// (calm.Client.Handoff; nil for a client that does not say).
type spanFetch struct {
	done    chan struct{}
	handoff <-chan struct{}
	recs    *spanRecords
	err     error
}

func (mr *monitorRun) startSpan(ctx context.Context, span Range) *spanFetch {
	f := &spanFetch{done: make(chan struct{})}
	c := mr.Client
	if cc, ok := c.(*calm.Client); ok {
		c, f.handoff = cc.Handoff()
	}
	go func() {
		defer close(f.done)
		f.recs, f.err = mr.fetchSpanInTime(ctx, c, span)
	}()
	return f
}

// awaitSpan waits until f is done and returns the series of the next span (the first of rest),
// started as soon as the client hands off (f's last answer is in, not yet decoded) or else once
// f is done without an error. Nothing is delivered while it waits, so at most two spans are
// held: f's and the next.
func (mr *monitorRun) awaitSpan(ctx context.Context, f *spanFetch, rest []Range) (next *spanFetch) {
	select {
	case <-f.handoff:
	case <-f.done:
		if f.err != nil {
			return nil
		}
	}
	if len(rest) > 0 && !mr.nearDeadline() {
		next = mr.startSpan(ctx, rest[0])
	}
	<-f.done
	return next
}

// errFetchCut: a request series was cut short so that the run can still save and report.
var errFetchCut = errors.New("request series cut short by the deadline margin")

// fetchSpanInTime is fetchSpan with a deadline halfway into the deadline margin: a slow request
// series started before the margin cannot run into the end of the invocation, so the run still
// has time to save its checkpoints and report. Nothing of the cut span is delivered.
func (mr *monitorRun) fetchSpanInTime(ctx context.Context, c Client, span Range) (*spanRecords, error) {
	if mr.stopAt.IsZero() {
		return mr.fetchSpan(ctx, c, span)
	}
	fctx, cancel := context.WithDeadlineCause(ctx, mr.stopAt.Add(mr.Config.DeadlineMargin/2), errFetchCut)
	defer cancel()
	out, err := mr.fetchSpan(fctx, c, span)
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(fctx), errFetchCut) {
		return nil, errFetchCut
	}
	return out, err
}

// fetchSpan runs the monitor's request series for span and returns its records by window
// (window i is [from+i·res, from+(i+1)·res)), each part of it checked against the invariants
// of a complete window (fetchPart).
//
// A metrics span whose answer shows that the tenant stamps points or honours from/to otherwise
// than the run took it to (learnShape) is read again, the way learned: at most twice. Only
// then do points outside the span fail it (the inside invariant).
func (mr *monitorRun) fetchSpan(ctx context.Context, c Client, span Range) (*spanRecords, error) {
	for attempt := 0; ; attempt++ {
		out, edges, err := mr.fetchSpanOnce(ctx, c, span)
		if err != nil && invariantOf(err) != InvariantInside || !mr.m.Info().IsMetrics() || attempt == 2 || !mr.learnShape(edges) {
			return out, err
		}
		mr.log.Info("reading the span again as learned", "from", span.From, "to", span.To)
	}
}

// fetchSpanOnce runs the monitor's request series for span once; edges tells where the
// answer's points lay relative to the span (learnShape).
func (mr *monitorRun) fetchSpanOnce(ctx context.Context, c Client, span Range) (*spanRecords, spanEdges, error) {
	out := newSpanRecords(span, mr.Config.Resolution)
	edges := spanEdges{span: span, period: mr.m.Info().IsMetrics() && mr.shape.period(span.From, mr.now()) != ""}
	err := mr.fetchPart(ctx, out, span, c, &edges)
	out.seal()
	if out.collisions > 0 {
		mr.log.Warn("records sharing an id with other content; the first is delivered", "count", out.collisions, "example", out.collision)
	}
	return out, edges, err
}

// deliver writes the batch to every sink; it succeeds only when every sink accepted it, items a
// sink refused for good being kept in the dead-letter place.
func (mr *monitorRun) deliver(ctx context.Context, b sink.Batch) error {
	if mr.DeadLetter != nil {
		b.Refuse = func(ctx context.Context, sinkName string, items []sink.Refused) error {
			if err := mr.DeadLetter.Keep(ctx, b, sinkName, items); err != nil {
				return err
			}
			mr.sum.DeadLettered += len(items)
			mr.log.Warn("a sink refused items for good: kept in the dead-letter place, the window moves on",
				"sink", sinkName, "items", len(items), "window", fmtRange(Range{From: b.From, To: b.To}), "first", items[0].Reason)
			return nil
		}
	}
	for _, s := range mr.Sinks {
		if err := s.Write(ctx, b); err != nil {
			return fmt.Errorf("sink %s: %w", s.Name(), err)
		}
	}
	return nil
}

// scheduledEvents asks for the status events of the lookback and delivers the new or changed
// ones, then remembers what it delivered (marks expire after lookback + margin).
func (mr *monitorRun) scheduledEvents(ctx context.Context, now time.Time) (err error) {
	rng := Range{From: now.Add(-mr.Config.EventLookback).Truncate(time.Second), To: now.Truncate(time.Second)}
	mr.sum.From, mr.sum.To = rng.From, rng.From
	marks, err := mr.Store.Marks(ctx, mr.Tenant, mr.id, now)
	if err != nil {
		return fmt.Errorf("read event marks: %w", err)
	}
	if mr.nearDeadline() {
		mr.sum.Stopped = "deadline"
		return nil
	}
	read := rng
	var open int
	var cut bool
	if read.From, open, cut = eventReach(rng, marks, now); open > 0 {
		mr.log.Info("reading status events back to the oldest open one, to see it change", "from", read.From, "open", open)
	}
	if cut {
		mr.log.Warn("an open status event started more than the longest reach ago; its changes are seen only if the API returns it for a later start",
			"reach", MaxEventReach.String())
	}
	events, err := mr.fetchEvents(ctx, read)
	if err != nil {
		return err
	}
	expires := now.Add(mr.Config.EventLookback + eventMarkMargin)
	seen := make(map[string]state.Mark, len(events))
	var fresh []record.Record
	for _, key := range sortedKeys(events) {
		rec := events[key]
		if _, tracked := marks[key]; !tracked && !inLookback(rec, rng.From) {
			continue // ended before the lookback: brought only by reading back to an open event
		}
		mark := state.Mark{Hash: rec.ID, Expires: expires}
		if start, ok := eventOpen(rec, now); ok {
			mark.Open = start.UTC()
		}
		seen[key] = mark
		if marks[key].Hash != rec.ID {
			fresh = append(fresh, rec)
		}
	}
	b := sink.Batch{Tenant: mr.Tenant, Monitor: mr.id, From: rng.From, To: rng.To, Series: record.Runs(fresh)}
	if err := mr.deliver(ctx, b); err != nil {
		return fmt.Errorf("deliver %s %s: %w", mr.id, fmtRange(rng), err)
	}
	if err := mr.Store.PutMarks(ctx, mr.Tenant, mr.id, now, seen); err != nil {
		// The events were delivered; without marks they come again next run (same ids).
		return fmt.Errorf("save event marks: %w", err)
	}
	cp := state.Checkpoint{Tenant: mr.Tenant, Monitor: mr.id, Host: mr.Host, Next: rng.To, UpdatedAt: mr.wallNow().UTC(),
		LastRunAt: now, LastSuccess: now, LastPoints: len(fresh), LastWindows: 1}
	if err := mr.Store.Put(ctx, cp); err != nil && !errors.Is(err, state.ErrStale) {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	mr.sum.Windows, mr.sum.Points, mr.sum.To = 1, len(fresh), rng.To
	return unfollowed(marks, events, read)
}

// backfillEvents delivers every status event of rng, without reading or writing marks.
func (mr *monitorRun) backfillEvents(ctx context.Context, rng Range) error {
	mr.sum.From, mr.sum.To = rng.From, rng.From
	events, err := mr.fetchEvents(ctx, rng)
	if err != nil {
		return err
	}
	var recs []record.Record
	for _, key := range sortedKeys(events) {
		recs = append(recs, events[key])
	}
	if err := mr.deliver(ctx, sink.Batch{Tenant: mr.Tenant, Monitor: mr.id, From: rng.From, To: rng.To, Series: record.Runs(recs)}); err != nil {
		return fmt.Errorf("deliver %s %s: %w", mr.id, fmtRange(rng), err)
	}
	mr.sum.Windows, mr.sum.Points, mr.sum.To = 1, len(recs), rng.To
	return nil
}

// fetchEvents returns the events of rng by event key (a repeated event: the last answer wins).
func (mr *monitorRun) fetchEvents(ctx context.Context, rng Range) (map[string]record.Record, error) {
	events := map[string]record.Record{}
	q := Query{Tenant: mr.Tenant, From: rng.From, To: rng.To, Resolution: mr.Config.resolutionParam(), Now: mr.now()}
	if err := mr.m.Fetch(ctx, mr.Client, q, func(rec record.Record) { events[rec.EventKey()] = rec }); err != nil {
		return nil, fmt.Errorf("collect %s %s: %w", mr.id, fmtRange(rng), err)
	}
	return events, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func fmtRange(r Range) string {
	return r.From.UTC().Format("2006-01-02T15:04Z") + "–" + r.To.UTC().Format("2006-01-02T15:04Z")
}
