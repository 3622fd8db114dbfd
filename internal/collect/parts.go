package collect

import (
	"context"
	"fmt"
	"time"

	"github.com/calm-collector/calm-collector/internal/record"
)

// fetchPart reads part (whole windows of out's span) into out and checks what came against the
// invariants of a complete window (invariants.go):
//
//   - inside: a point outside part fails it (the tenant did not answer the range asked; what
//     it sent cannot be trusted whole), unless the span is read by period (the shape learned:
//     a period reaches past the span by design, and the points' own windows deliver them).
//     The point is not delivered. edges sees every point, for learnShape.
//   - count: every series brought at least its x-total-count, under either reading.
//   - uncut: a result set cut at a cap (cutAt) is dropped and its halves are read instead,
//     down to single windows; a single window that is cut fails.
//
// A failure is an *InvariantError: nothing of the span is delivered, the checkpoint stays. c is
// the client the part is asked with (startSpan's, or the monitor's).
func (mr *monitorRun) fetchPart(ctx context.Context, out *spanRecords, part Range, c Client, edges *spanEdges) error {
	res := mr.Config.Resolution
	t := &tally{}
	q := Query{Tenant: mr.Tenant, From: part.From, To: part.To, Resolution: mr.Config.resolutionParam(),
		Shape: mr.shape, Now: mr.now(), tally: t}
	endStamped := mr.m.Info().IsMetrics() && mr.shape.endStamped()
	outside, example := 0, ""
	// The halves' counts that cutAt always wants of a long part are asked beside its pages, so
	// that the span is not held for them after its last page.
	var halves *counts
	if a, b, ok := splitWindows(part, res); ok && part.To.Sub(part.From) >= cutCheckRange {
		halves = mr.count(ctx, a, b)
		defer halves.stop()
	}
	err := mr.m.Fetch(ctx, c, q, func(rec record.Record) {
		if endStamped { // a record's time is its bucket's start (docs/design.md §4), as its id
			rec.Time = rec.Time.Add(-res)
			rec.ID = rec.PointID(rec.Time)
		}
		edges.see(rec)
		if rec.Time.Before(part.From) || !rec.Time.Before(part.To) {
			if outside++; example == "" {
				example = rec.Name() + " at " + rec.Time.UTC().Format(time.RFC3339)
			}
			return
		}
		out.add(int(rec.Time.Sub(out.from)/res), rec)
	})
	out.dropped += outside
	edges.example = example
	if err != nil {
		return err
	}
	if outside > 0 && !edges.period {
		return &InvariantError{Invariant: InvariantInside, Range: part, Detail: fmt.Sprintf(
			"%d points came from outside the asked range, e.g. %s (the tenant may not honour from/to, or stamps points otherwise)", outside, example)}
	}
	if bad := t.unreconciled(); bad != "" {
		return &InvariantError{Invariant: InvariantCount, Range: part, Detail: "less came than x-total-count says: " + bad}
	}
	cut, why, err := mr.cutAt(ctx, part, t, halves)
	if err != nil || !cut {
		return err
	}
	a, b, ok := splitWindows(part, res)
	if !ok {
		return &InvariantError{Invariant: InvariantUncut, Range: part, Detail: why + "; a single window cannot be split further"}
	}
	mr.log.Info("result set cut at a cap; reading its halves", "range", fmtRange(part), "why", why, "split", a.To)
	out.reset(int(part.From.Sub(out.from)/res), int(part.To.Sub(out.from)/res))
	if err := mr.fetchPart(ctx, out, a, c, edges); err != nil {
		return err
	}
	return mr.fetchPart(ctx, out, b, c, edges)
}

// cutAt tells whether the result set of part, whose series t gathered (halves: the counts of
// its halves when fetchPart asked for them already), was cut at a cap: its
// halves hold more than it (a cap the tenant applies whatever the range, onLimit=TRUNCATE), or
// its total looks like a cut (tally.suspect) and a count with limit=1 tells a smaller total (the
// tenant's totals follow the limit), or it is exactly the cap learned. A part of cutCheckRange
// or more is always checked with its halves: two small requests, only where a run reads that
// much at once (the first run, catching up after an outage, a backfill); a shorter one of
// several windows only when its total looks cut. A cut found teaches the monitor the cap,
// which the checkpoint keeps.
func (mr *monitorRun) cutAt(ctx context.Context, part Range, t *tally, halves *counts) (cut bool, why string, err error) {
	_, ok := mr.m.(countable)
	total, hasTotal := t.total()
	if !ok || !hasTotal || total <= 0 {
		return false, "", nil
	}
	suspect, atCap := t.suspect(int(mr.cap.Load()))
	if a, b, ok := splitWindows(part, mr.Config.Resolution); ok && (suspect != "" || halves != nil) {
		if halves == nil {
			halves = mr.count(ctx, a, b)
		}
		n, err := halves.wait()
		if err != nil {
			return false, "", err
		}
		if n[0] >= 0 && n[1] >= 0 && n[0]+n[1] > total {
			mr.learnCap(t.largest())
			return true, fmt.Sprintf("x-total-count %d for the range, but %d and %d for its halves", total, n[0], n[1]), nil
		}
		return false, "", nil
	}
	if suspect == "" {
		return false, "", nil
	}
	n, err := mr.count(ctx, part).wait()
	if err != nil {
		return false, "", err
	}
	if n[0] >= 0 && n[0] < total {
		return true, fmt.Sprintf("%s, and a request with limit=1 says %d", suspect, n[0]), nil
	}
	return atCap, suspect, nil
}

// counts are the counts of some ranges (countable.Count), asked for one after the other in a
// goroutine of their own.
type counts struct {
	done   chan struct{}
	cancel context.CancelFunc
	n      []int
	err    error
}

// count starts asking for the counts of ranges; nil when the monitor cannot count.
func (mr *monitorRun) count(ctx context.Context, ranges ...Range) *counts {
	cm, ok := mr.m.(countable)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	c := &counts{done: make(chan struct{}), cancel: cancel}
	q := Query{Tenant: mr.Tenant, Resolution: mr.Config.resolutionParam(), Shape: mr.shape, Now: mr.now()}
	go func() {
		defer close(c.done)
		for _, r := range ranges {
			q.From, q.To = r.From, r.To
			n, err := cm.Count(ctx, mr.Client, q)
			if err != nil {
				c.err = fmt.Errorf("count %s: %w", fmtRange(r), err)
				return
			}
			c.n = append(c.n, n)
		}
	}()
	return c
}

// wait returns the counts once all are in.
func (c *counts) wait() ([]int, error) {
	<-c.done
	c.cancel()
	return c.n, c.err
}

// stop stops asking, if it still does, and waits for the goroutine; a nil c is stopped.
func (c *counts) stop() {
	if c != nil {
		c.cancel()
		<-c.done
	}
}

// cutCheckRange is the shortest part always checked for a cut: longer than a scheduled run
// usually reads (one or a few windows), as long as the first run of a monitor reads (Lookback).
const cutCheckRange = 30 * time.Minute

// learnCap remembers the cap a tenant cut a result set at: the smallest seen.
func (mr *monitorRun) learnCap(n int) {
	for {
		cur := mr.cap.Load()
		if n <= 0 || cur > 0 && cur <= int64(n) || mr.cap.CompareAndSwap(cur, int64(n)) {
			return
		}
	}
}

// splitWindows cuts r near its middle at a window boundary; ok is false for a single window.
func splitWindows(r Range, res time.Duration) (a, b Range, ok bool) {
	n := int(r.To.Sub(r.From) / res)
	if n < 2 {
		return Range{}, Range{}, false
	}
	mid := r.From.Add(time.Duration(n/2) * res)
	return Range{From: r.From, To: mid}, Range{From: mid, To: r.To}, true
}
