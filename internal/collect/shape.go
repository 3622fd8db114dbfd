package collect

import (
	"log/slog"
	"sync"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/state"
)

// ShapeRetryAfter is how long what was learned against the usual reading is kept: a tenant
// found not to honour from/to is read by period for a day, then from/to are tried again
// (one span read twice), as a refusal of protobuf-binary is (docs/cloud-alm-api.md, "Time
// windows" and "Service lists").
const ShapeRetryAfter = 24 * time.Hour

// How a tenant stamps a data point, and sends several service ids (state.Formats).
const (
	StampStart = "start"
	StampEnd   = "end"
	ListComma  = "comma"
	ListRepeat = "repeat"
	ListSingle = "single"
	// FromToHonoured, FromToIgnored, FromToUnknown: state.Formats.FromTo.
	FromToHonoured = "honoured"
	FromToIgnored  = "ignored"
	FromToUnknown  = "unknown"
)

// tenantShape is what collection learned of how the tenant answers where SAP's material allows
// more than one reading: the time a data point is stamped with, whether from/to are honoured,
// and how several service ids are sent. Loaded from and saved to state.Formats once a run; the
// monitors of a run share it.
type tenantShape struct {
	mu      sync.Mutex
	f       state.Formats
	changed bool
	log     *slog.Logger
	// probe is the monitor probeFromTo asks; probeOnce makes the run's first metrics monitor ask.
	probe     Info
	probeOnce sync.Once
}

func newTenantShape(f state.Formats, log *slog.Logger) *tenantShape {
	return &tenantShape{f: f, log: log}
}

// formats returns the learned shape as state.Formats fields and whether this run changed it.
func (t *tenantShape) formats() (state.Formats, bool) {
	if t == nil {
		return state.Formats{}, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.f, t.changed
}

// endStamped reports whether the tenant stamps a data point with its bucket's end.
func (t *tenantShape) endStamped() bool {
	if t == nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.f.Stamping == StampEnd
}

// stampingKnown reports whether the stamping was learned.
func (t *tenantShape) stampingKnown() bool {
	if t == nil {
		return true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.f.Stamping != ""
}

func (t *tenantShape) learnStamping(v string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.f.Stamping != v {
		t.log.Info("learned how the tenant stamps data points", "stamping", v)
		t.f.Stamping, t.changed = v, true
	}
}

// period returns the period parameter that reads [from, now) for a tenant that does not honour
// from/to, "" while from/to are taken to be honoured.
func (t *tenantShape) period(from, now time.Time) string {
	if t == nil {
		return ""
	}
	t.mu.Lock()
	fromTo, at := t.f.FromTo, t.f.FromToAt
	t.mu.Unlock()
	if fromTo != FromToIgnored || now.Sub(at) >= ShapeRetryAfter {
		return ""
	}
	return calm.PeriodCovering(from, now)
}

// fromToDue reports whether from/to are to be probed: never asked, or what was learned is a
// day old and not "honoured".
func (t *tenantShape) fromToDue(now time.Time) bool {
	if t == nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.f.FromTo == "" || t.f.FromTo != FromToHonoured && now.Sub(t.f.FromToAt) >= ShapeRetryAfter
}

// learnFromTo remembers whether from/to are honoured (FromToHonoured, FromToIgnored or
// FromToUnknown), as of now.
func (t *tenantShape) learnFromTo(v string, now time.Time, example string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if v == FromToIgnored && t.f.FromTo != FromToIgnored {
		t.log.Warn("the tenant does not honour from/to: reading by period, keeping only the points of each window; tried again in a day",
			"example", example)
	}
	if v == FromToHonoured && t.f.FromTo == FromToHonoured {
		return // nothing new: no write
	}
	t.f.FromTo, t.f.FromToAt, t.changed = v, now, true
}

// serviceList returns how several service ids are sent and whether it is to be learned now:
// unknown, or one a request for longer than ShapeRetryAfter.
func (t *tenantShape) serviceList(now time.Time) (mode string, learn bool) {
	if t == nil {
		return ListComma, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch t.f.ServiceList {
	case ListComma, ListRepeat:
		return t.f.ServiceList, false
	case ListSingle:
		return ListSingle, now.Sub(t.f.ServiceListAt) >= ShapeRetryAfter
	}
	return ListSingle, true
}

func (t *tenantShape) learnServiceList(mode string, now time.Time) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.f.ServiceList != mode {
		t.log.Info("learned how the tenant takes several service ids", "serviceList", mode)
	}
	t.f.ServiceList, t.f.ServiceListAt, t.changed = mode, now, true
}

// spanEdges is where a span's answer put its points: inside, on its first instant, on its end
// (outside under start stamps, the last bucket under end stamps), or beyond either.
type spanEdges struct {
	span                                Range
	period                              bool // read by period: points beyond the span are expected
	inside, atFrom, atTo, before, after int
	example                             string // a point outside, for the log
}

func (e *spanEdges) see(rec record.Record) {
	t := rec.Time
	switch {
	case t.Before(e.span.From):
		e.before++
	case t.After(e.span.To):
		e.after++
	case t.Equal(e.span.To):
		e.atTo++
	default:
		e.inside++
		if t.Equal(e.span.From) {
			e.atFrom++
		}
	}
}

// learnShape learns from where a span's points lay and reports whether the span must be read
// again because of it:
//   - points beyond the span (or on both of its edges): from/to are not honoured, read by period;
//   - points on its end but none on its first instant: points are stamped with their bucket's
//     end, shift them back a bucket;
//   - a point on its first instant: points are stamped with their bucket's start (the usual
//     reading: nothing to read again); points shifted back a bucket before it: the same.
//
// A span read by period tells nothing by its edges.
func (mr *monitorRun) learnShape(e spanEdges) bool {
	sh := mr.shape
	switch {
	case e.period || sh == nil:
		return false
	case sh.endStamped() && e.before > 0 && e.after == 0 && e.atTo == 0 && e.atFrom == 0:
		// Shifted back a bucket, the first bucket fell before the span: stamped with its start.
		sh.learnStamping(StampStart)
		return true
	case e.before > 0 || e.after > 0 || (e.atTo > 0 && e.atFrom > 0):
		sh.learnFromTo(FromToIgnored, mr.now(), e.example)
		return true
	case e.atTo > 0:
		sh.learnStamping(StampEnd)
		return true
	case e.atFrom > 0 && !sh.stampingKnown():
		sh.learnStamping(StampStart)
	}
	// All points inside does not say from/to are honoured: the last hour of a tenant that
	// ignores them lies inside the first run's span. probeFromTo tells.
	return false
}
