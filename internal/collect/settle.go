package collect

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/sink"
	"github.com/calm-collector/calm-collector/internal/state"
)

// Late data (docs/design.md §7, "Late data"). A tenant may fill a bucket some minutes after it
// closed (an ingestion delay): a run that read the window before then delivered it without
// those points, and its checkpoint moved on. So a delivered window stays open to re-checking
// for the settle horizon (Config.Settle): the run that delivers it leaves a mark beside the
// checkpoint (the points and rows delivered and the ids of the points), and every later
// scheduled run asks, with one limit=1 request per monitor (per batch of services), whether the
// windows of the horizon hold more now than was delivered. The logs and traces monitors, whose
// counts cost a request per service, ask once per horizon, over the windows of two
// (perServiceCount). Only when they do does it narrow down
// (one more count per halving) to the windows that grew, read those again and deliver the points
// not delivered before: no sink sees a point twice.

// windowMark is what a delivered window leaves for the re-check, as a state mark of its
// monitor keyed "window <from RFC 3339>".
type windowMark struct {
	from         time.Time
	points, rows int
	ids          []uint64 // idKey of every point delivered, sorted
}

const windowMarkPrefix = "window "

func (w windowMark) key() string { return windowMarkPrefix + w.from.UTC().Format(time.RFC3339) }

// encode writes the mark as "v1 POINTS ROWS BASE64(ids, 8 bytes each)".
func (w windowMark) encode() string {
	b := make([]byte, 8*len(w.ids))
	for i, id := range w.ids {
		binary.LittleEndian.PutUint64(b[8*i:], id)
	}
	return fmt.Sprintf("v1 %d %d %s", w.points, w.rows, base64.RawStdEncoding.EncodeToString(b))
}

// decodeWindowMark reads a mark written by encode; ok is false for any other mark.
func decodeWindowMark(key string, m state.Mark) (windowMark, bool) {
	from, err := time.Parse(time.RFC3339, strings.TrimPrefix(key, windowMarkPrefix))
	f := strings.Split(m.Hash, " ")
	if !strings.HasPrefix(key, windowMarkPrefix) || err != nil || len(f) != 4 || f[0] != "v1" {
		return windowMark{}, false
	}
	points, err1 := strconv.Atoi(f[1])
	rows, err2 := strconv.Atoi(f[2])
	b, err3 := base64.RawStdEncoding.DecodeString(f[3])
	if err1 != nil || err2 != nil || err3 != nil || len(b)%8 != 0 {
		return windowMark{}, false
	}
	w := windowMark{from: from.UTC(), points: points, rows: rows, ids: make([]uint64, len(b)/8)}
	for i := range w.ids {
		w.ids[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return w, true
}

// idKey is the 64 bits of a record id a mark keeps: the first 16 hex digits of a record id
// (uniformly distributed), or an FNV-1a hash of another id.
func idKey(id string) uint64 {
	if b, ok := hexID(id); ok {
		return binary.BigEndian.Uint64(b[:8])
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

// markOf is the mark of a window whose series were delivered.
func markOf(from time.Time, series []record.Run) windowMark {
	w := windowMark{from: from.UTC()}
	rows := map[string]struct{}{}
	for _, s := range series {
		for _, p := range s.Points {
			w.ids = append(w.ids, idKey(p.ID))
			rows[rowKey(s.Series, p.Time)] = struct{}{}
		}
	}
	w.points = len(w.ids)
	slices.Sort(w.ids)
	w.ids = slices.Compact(w.ids)
	w.rows = len(rows)
	return w
}

// rowKey names a point's row: its series' attributes at its time, whatever the measure (what
// a tenant that pages by rows counts, internal/calm).
func rowKey(s *record.Series, t time.Time) string {
	var b strings.Builder
	for k, v := range s.Attrs() {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(v)
		b.WriteByte(0)
	}
	b.WriteString(strconv.FormatInt(t.UnixNano(), 10))
	return b.String()
}

// has reports whether the mark holds the record id id.
func (w windowMark) has(id string) bool {
	_, ok := slices.BinarySearch(w.ids, idKey(id))
	return ok
}

// putMark keeps the mark of a window delivered at now until the settle horizon has passed it
// (twice the horizon for a monitor re-checked once per horizon: recheckSpan).
func (mr *monitorRun) putMark(ctx context.Context, now time.Time, w windowMark) error {
	exp := w.from.Add(mr.Config.Resolution + mr.recheckSpan() + mr.Config.Lag + time.Hour)
	if err := mr.Store.PutMarks(ctx, mr.Tenant, mr.id, now, map[string]state.Mark{w.key(): {Hash: w.encode(), Expires: exp}}); err != nil {
		return fmt.Errorf("save the settle mark of %s: %w", w.from.Format(time.RFC3339), err)
	}
	return nil
}

// settling reports whether a window ending at to, delivered by a run whose windows end at end,
// is inside the settle horizon and needs a mark.
func (mr *monitorRun) settling(to, end time.Time) bool {
	return mr.Config.Settle > 0 && to.After(end.Add(-mr.Config.Settle))
}

// perServiceCount is a monitor whose count costs a request per service (logs, traces: their
// APIs take one service a request): re-checked once per settle horizon, not every run.
type perServiceCount interface{ countsPerService() }

// recheckSpan is how far back from the run's end a re-check reaches: the settle horizon, or
// two of them for a monitor re-checked once per horizon (the windows delivered since the last
// re-check, each until it is a horizon old).
func (mr *monitorRun) recheckSpan() time.Duration {
	if _, ok := mr.m.(perServiceCount); ok {
		return 2 * mr.Config.Settle
	}
	return mr.Config.Settle
}

// recheckDue reports whether the run whose windows are [next, end) re-checks: every run, but a
// monitor re-checked once per horizon only in the run whose windows cross a multiple of the
// horizon (on the UTC clock: one run in six at the default 30 minutes and 5-minute runs).
func (mr *monitorRun) recheckDue(next, end time.Time) bool {
	if _, ok := mr.m.(perServiceCount); !ok {
		return true
	}
	return end.Truncate(mr.Config.Settle).After(next)
}

// horizon returns the marked windows of the re-check before next, oldest first: the longest
// run of consecutive marked windows that ends at next and starts no earlier than
// next − recheckSpan (a window without a mark, written before marks were, ends it). It is
// counted back from next, the end of what runs before delivered, not from this run's end: a
// run coming a horizon or more after the one before (a missed run, a longer schedule) still
// re-checks what that one delivered.
func (mr *monitorRun) horizon(marks map[string]state.Mark, next time.Time) []windowMark {
	byFrom := map[time.Time]windowMark{}
	for k, m := range marks {
		if w, ok := decodeWindowMark(k, m); ok {
			byFrom[w.from] = w
		}
	}
	res := mr.Config.Resolution
	var out []windowMark
	for from := next.Add(-res); !from.Before(next.Add(-mr.recheckSpan())); from = from.Add(-res) {
		w, ok := byFrom[from.UTC()]
		if !ok {
			break
		}
		out = append(out, w)
	}
	slices.Reverse(out)
	return out
}

// settleCount is the settle re-check's first question, asked while the run reads its own
// windows: the windows it counts were delivered by the runs before (horizon counts back from
// the checkpoint at the run's start), so it needs nothing from this run's reading, and a
// steady-state run waits for one answer where it waited for two in a row.
type settleCount struct {
	cm    countable
	ws    []windowMark
	total int
	err   error
	done  chan struct{}
}

// startSettle asks the settle re-check's first count of the windows delivered before next
// (the checkpoint at the start of the run) in the background; nil when this run does not
// re-check. settle takes its answer; wait lets it end.
func (mr *monitorRun) startSettle(ctx context.Context, now, next, end time.Time) *settleCount {
	cm, ok := mr.m.(countable)
	if mr.Config.Settle <= 0 || !ok || !mr.recheckDue(next, end) {
		return nil
	}
	sc := &settleCount{cm: cm, done: make(chan struct{})}
	go func() {
		defer close(sc.done)
		marks, err := mr.Store.Marks(ctx, mr.Tenant, mr.id, now)
		if err != nil {
			sc.err = fmt.Errorf("read settle marks: %w", err)
			return
		}
		if sc.ws = mr.horizon(marks, next); len(sc.ws) > 0 {
			sc.total, sc.err = mr.countWindows(ctx, cm, sc.ws)
		}
	}()
	return sc
}

// wait returns once the count has ended (nil: nothing asked).
func (sc *settleCount) wait() {
	if sc != nil {
		<-sc.done
	}
}

// countWindows is the total of the windows ws, oldest first, as the tenant counts it now.
func (mr *monitorRun) countWindows(ctx context.Context, cm countable, ws []windowMark) (int, error) {
	q := Query{Tenant: mr.Tenant, From: ws[0].from, To: ws[len(ws)-1].from.Add(mr.Config.Resolution),
		Resolution: mr.Config.resolutionParam(), Shape: mr.shape, Now: mr.now(), cheap: true}
	return cm.Count(ctx, mr.Client, q)
}

// settle re-checks the windows of the settle horizon that sc counted and delivers what came
// late. It returns how long after its window's end the latest late point was found (0: none).
func (mr *monitorRun) settle(ctx context.Context, now time.Time, sc *settleCount) (time.Duration, error) {
	if sc == nil {
		return 0, nil
	}
	sc.wait()
	if sc.err != nil || len(sc.ws) == 0 || sc.total < 0 {
		return 0, sc.err
	}
	grown, err := mr.grown(sc.ws, sc.total, func(ws []windowMark) (int, error) { return mr.countWindows(ctx, sc.cm, ws) })
	if err != nil {
		return 0, err
	}
	var delay time.Duration
	for _, w := range grown {
		if err := mr.reread(ctx, now, w); err != nil {
			return delay, err
		}
		delay = now.Sub(w.from.Add(mr.Config.Resolution))
	}
	return delay, nil
}

// delivered is what the windows' marks say was delivered, in the unit the tenant's totals count.
func (mr *monitorRun) delivered(ws []windowMark) int {
	unit := ""
	if u, ok := mr.Client.(interface{ MetricsUnit() string }); ok && mr.m.Info().IsMetrics() {
		unit = u.MetricsUnit()
	}
	n := 0
	for _, w := range ws {
		if unit == "rows" {
			n += w.rows
		} else {
			n += w.points
		}
	}
	return n
}

// grown narrows the windows ws, whose total is total now, down to those that grew: each halving
// costs one count (the other half's total is the rest, totals of disjoint ranges add up).
func (mr *monitorRun) grown(ws []windowMark, total int, count func([]windowMark) (int, error)) ([]windowMark, error) {
	was := mr.delivered(ws)
	if total < was {
		mr.log.Warn("a re-check counts less than was delivered: data was removed, or the tenant cuts totals at a cap",
			"from", ws[0].from, "windows", len(ws), "total", total, "delivered", was)
	}
	if total <= was {
		return nil, nil
	}
	if len(ws) == 1 {
		return ws, nil
	}
	left, right := ws[:len(ws)/2], ws[len(ws)/2:]
	nl, err := count(left)
	if err != nil || nl < 0 {
		return nil, err
	}
	a, err := mr.grown(left, nl, count)
	if err != nil {
		return nil, err
	}
	b, err := mr.grown(right, total-nl, count)
	return append(a, b...), err
}

// reread reads window w again and delivers the points its mark does not hold, as a batch of
// their own (sink.Batch.Late: an S3 object beside the window's), then updates the mark.
func (mr *monitorRun) reread(ctx context.Context, now time.Time, w windowMark) error {
	rng := Range{From: w.from, To: w.from.Add(mr.Config.Resolution)}
	out := newSpanRecords(rng, mr.Config.Resolution)
	edges := spanEdges{span: rng, period: mr.m.Info().IsMetrics() && mr.shape.period(rng.From, mr.now()) != ""}
	err := mr.fetchPart(ctx, out, rng, mr.Client, &edges)
	out.seal()
	mr.sum.Dropped += out.dropped
	mr.sum.Repeats += out.repeats
	if err != nil {
		return fmt.Errorf("re-read %s %s for late data: %w", mr.id, fmtRange(rng), err)
	}
	all := out.batch(0)
	b := sink.Batch{Tenant: mr.Tenant, Monitor: mr.id, From: rng.From, To: rng.To, Late: true, Before: w.points}
	for _, s := range all {
		fresh := record.Run{Series: s.Series}
		for _, p := range s.Points {
			if !w.has(p.ID) {
				fresh.Points = append(fresh.Points, p)
			}
		}
		if len(fresh.Points) > 0 {
			b.Series = append(b.Series, fresh)
		}
	}
	if len(b.Series) > 0 {
		if err := mr.deliver(ctx, b); err != nil {
			return fmt.Errorf("deliver late data of %s %s: %w", mr.id, fmtRange(rng), err)
		}
	}
	mr.sum.Late += b.Len()
	mr.log.Info("late data delivered", "window", fmtRange(rng), "points", b.Len(), "deliveredBefore", w.points)
	nw := markOf(w.from, all)
	nw.ids = slices.Compact(slices.Sorted(slices.Values(append(nw.ids, w.ids...))))
	return mr.putMark(ctx, now, nw)
}

// CheckpointLister is what UsualDelay needs of a state store; internal/state's stores have it.
type CheckpointLister interface {
	List(ctx context.Context, tenant string) ([]state.Checkpoint, error)
}

// UsualDelay is the tenant's usual delay of late data as its monitors learned it (the largest
// checkpoint Delay, docs/design.md §7), for reports such as the connection test's api-shape;
// ok is false while no late point was found.
func UsualDelay(ctx context.Context, store CheckpointLister, tenant string) (d time.Duration, ok bool, err error) {
	cps, err := store.List(ctx, tenant)
	if err != nil {
		return 0, false, fmt.Errorf("usual delay of %s: %w", tenant, err)
	}
	for _, cp := range cps {
		d = max(d, cp.Delay)
	}
	return d, d > 0, nil
}
