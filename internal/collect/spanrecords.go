package collect

import (
	"fmt"
	"hash/maphash"
	"maps"
	"strconv"
	"time"

	"github.com/calm-collector/calm-collector/internal/record"
)

// spanRecords holds the records of one span, window by window, until the span's last page is
// in (the API orders points by service, measure, series and time, so no window is complete
// before then), in a compact form: a record is kept as its id, time, value and body plus the
// index of its series — tenant, monitor, kind, name, unit, Count and the attribute map, which
// the records of one series share in every window of the span. batch rebuilds the records of
// one window when it is delivered.
//
// Why: held as record.Record with a map each, one hour of a 240-service landscape (43,200 hm
// points) is about 25 MB live; this way about 5 MB (BENCHMARKS.md, peak memory). Sinks get
// records whose attribute maps are shared and must not change them (see Sink).
type spanRecords struct {
	from    time.Time
	res     time.Duration
	series  []series
	windows [][]point
	dropped int // points of the series outside the span
	// seen maps the id of every record kept to a digest of its content: a record read again
	// (the pager re-reads rather than skips, see internal/calm) is dropped; one whose id is
	// taken by a different content is a collision, dropped, counted and reported.
	seen       map[string]uint64
	repeats    int
	collisions int
	collision  string // one example: the id and both names
}

// series is what the records of one series have in common.
type series struct {
	tenant, monitor, kind, name, unit string
	count                             bool
	attrs                             map[string]string
}

// point is the rest of a record.
type point struct {
	id, body string
	t        time.Time
	value    float64
	series   int32
	hasValue bool
}

// recentSeries is how many of the latest series add compares a record with: a histogram's
// ".count" and ".sum" records alternate, two series in one run of points.
const recentSeries = 4

func newSpanRecords(span Range, res time.Duration) *spanRecords {
	n := int(span.To.Sub(span.From) / res)
	if span.To.Sub(span.From)%res != 0 {
		n++
	}
	return &spanRecords{from: span.From, res: res, windows: make([][]point, n), seen: map[string]uint64{}}
}

// digest is what tells two records of one id apart.
func digest(rec *record.Record) uint64 {
	var h maphash.Hash
	h.SetSeed(digestSeed)
	h.WriteString(rec.Name)
	h.WriteByte(0)
	h.WriteString(rec.Body)
	h.WriteByte(0)
	h.WriteString(strconv.FormatFloat(rec.Value, 'g', -1, 64))
	h.WriteString(strconv.FormatBool(rec.HasValue))
	h.WriteString(rec.Time.UTC().Format(time.RFC3339Nano))
	return h.Sum64()
}

var digestSeed = maphash.MakeSeed()

// add keeps rec in window i, unless a record of its id is kept already.
func (s *spanRecords) add(i int, rec record.Record) {
	d := digest(&rec)
	if was, ok := s.seen[rec.ID]; ok {
		if was == d {
			s.repeats++
			return
		}
		s.collisions++
		if s.collision == "" {
			s.collision = fmt.Sprintf("id %s: %s at %s, and again with other content", rec.ID, rec.Name, rec.Time.UTC().Format(time.RFC3339))
		}
		return
	}
	s.seen[rec.ID] = d
	s.windows[i] = append(s.windows[i], point{
		id: rec.ID, body: rec.Body, t: rec.Time, value: rec.Value, hasValue: rec.HasValue,
		series: s.seriesOf(&rec),
	})
}

// seriesOf returns the index of rec's series: one of the latest when it matches, a new one
// otherwise. Consecutive points mostly belong to one series, so a short look back finds it;
// a miss only costs a map that is not shared.
func (s *spanRecords) seriesOf(rec *record.Record) int32 {
	for i := len(s.series) - 1; i >= 0 && i >= len(s.series)-recentSeries; i-- {
		sr := &s.series[i]
		if sr.name == rec.Name && sr.unit == rec.Unit && sr.kind == rec.Kind && sr.count == rec.Count &&
			sr.tenant == rec.Tenant && sr.monitor == rec.Monitor &&
			(sr.attrs == nil) == (rec.Attributes == nil) && maps.Equal(sr.attrs, rec.Attributes) {
			return int32(i)
		}
	}
	s.series = append(s.series, series{
		tenant: rec.Tenant, monitor: rec.Monitor, kind: rec.Kind, name: rec.Name, unit: rec.Unit,
		count: rec.Count, attrs: rec.Attributes,
	})
	return int32(len(s.series) - 1)
}

// batch returns the records of window i, in the order they came, and lets go of the window.
func (s *spanRecords) batch(i int) []record.Record {
	pts := s.windows[i]
	s.windows[i] = nil
	if len(pts) == 0 {
		return nil
	}
	out := make([]record.Record, len(pts))
	for j, p := range pts {
		sr := &s.series[p.series]
		out[j] = record.Record{
			ID: p.id, Tenant: sr.tenant, Monitor: sr.monitor, Kind: sr.kind, Name: sr.name,
			Time: p.t, Value: p.value, HasValue: p.hasValue, Unit: sr.unit, Count: sr.count,
			Body: p.body, Attributes: sr.attrs,
		}
	}
	return out
}
