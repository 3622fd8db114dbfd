package collect

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/calm-collector/calm-collector/internal/calm"
)

// The invariants a complete window satisfies (docs/design.md, "What a complete window
// satisfies"). A window failing one is held: its checkpoint does not move past it, the run's
// summary names the invariant (status "incomplete"), and the next run reads it again.
const (
	// InvariantInside: every point the API sent for a range lies inside the range asked for.
	// A point outside means the tenant did not answer the question asked (from/to not
	// honoured, another stamping), so what it sent for the range cannot be trusted whole.
	InvariantInside = "inside"
	// InvariantCount: what came covers x-total-count, under either reading of what it counts.
	InvariantCount = "count"
	// InvariantUncut: no result set was cut at a cap; a cut one is read in smaller parts, and
	// a window that is cut on its own cannot be.
	InvariantUncut = "uncut"
	// InvariantFollowed: every status event a run follows as open (its mark) and reads back to
	// is in the answer, so that its close is seen (openevents.go).
	InvariantFollowed = "followed"
	// InvariantSettled: a delivered window that grew later (late data) was read again and its
	// new points delivered.
	InvariantSettled = "settled"
)

// InvariantError is a range that fails an invariant: held and read again next run.
type InvariantError struct {
	Invariant string
	Range     Range
	Detail    string
}

func (e *InvariantError) Error() string {
	what := "it is held and read again next run"
	if e.Invariant == InvariantFollowed {
		what = "what came is delivered, and the events are asked for again next run"
	}
	return fmt.Sprintf("%s fails the %q invariant: %s; %s", fmtRange(e.Range), e.Invariant, e.Detail, what)
}

// invariantOf returns the invariant err failed, "" when err is no InvariantError.
func invariantOf(err error) string {
	var ie *InvariantError
	if errors.As(err, &ie) {
		return ie.Invariant
	}
	return ""
}

// seriesCount is what one paged request series says of itself: x-total-count (-1: none), the
// data points and rows its pages held, and the page size asked for.
type seriesCount struct {
	total, points, rows, limit int
}

// see notes a page of a raw-data series (logs, traces) of n records: one record a row.
func (s *seriesCount) see(total, limit, n int) {
	s.total, s.limit = total, limit
	s.points += n
	s.rows += n
}

// tally gathers the series of one Fetch; safe for concurrent use.
type tally struct {
	mu     sync.Mutex
	series []seriesCount
}

func (t *tally) add(s seriesCount) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.series = append(t.series, s)
}

// total is the sum of the series' totals; ok is false when a series sent none.
func (t *tally) total() (n int, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.series {
		if s.total < 0 {
			return 0, false
		}
		n += s.total
	}
	return n, len(t.series) > 0
}

// unreconciled says which series brought less than its x-total-count under both readings
// (data points or rows); "" when every series is reconciled.
func (t *tally) unreconciled() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var bad []string
	for i, s := range t.series {
		if s.total >= 0 && s.total > max(s.points, s.rows) {
			bad = append(bad, fmt.Sprintf("series %d: x-total-count %d, %d data points in %d rows came", i+1, s.total, s.points, s.rows))
		}
	}
	return strings.Join(bad, "; ")
}

// suspect says why a series' total may be a cut rather than a count: it equals the cap learned
// for the monitor (0: none; atCap is then true), or the page size asked for. "" when none
// looks cut.
func (t *tally) suspect(learnedCap int) (why string, atCap bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.series {
		switch {
		case learnedCap > 0 && s.total == learnedCap:
			return fmt.Sprintf("x-total-count %d is the cap learned for this tenant", s.total), true
		case s.total > 0 && s.total == s.limit:
			return fmt.Sprintf("x-total-count %d equals the page size asked for", s.total), false
		}
	}
	return "", false
}

// largest is the largest total of a series.
func (t *tally) largest() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, s := range t.series {
		n = max(n, s.total)
	}
	return n
}

// metricsCounter is the cheap count of *calm.Client (MetricsCount); a client without it is
// not asked, and the checks that need a count are left out.
type metricsCounter interface {
	MetricsCount(ctx context.Context, q calm.MetricsQuery) (int, error)
}

// countable is a monitor that can count a range for the price of a small request per series:
// the sum of the series' x-total-count, -1 when a series sent none or the client cannot count.
type countable interface {
	Count(ctx context.Context, c Client, q Query) (int, error)
}
