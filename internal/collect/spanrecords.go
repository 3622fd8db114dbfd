package collect

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"maps"
	"math"
	"reflect"
	"time"

	"github.com/calm-collector/calm-collector/internal/record"
)

// spanRecords holds the records of one span, window by window, until the span's last page is
// in (the API orders points by service, measure, series and time, so no window is complete
// before then), in a compact form: a record is kept as its id, time and value plus the index of
// its series — tenant, monitor, kind, name, unit, Count and the attribute map, which the
// records of one series share in every window of the span. batch rebuilds the records of one
// window when it is delivered.
//
// Why: held as record.Record with a map each, one hour of a 240-service landscape (43,200 hm
// points) is about 25 MB live; this way about 3 MB, in pointer-free arrays the garbage collector
// does not scan (BENCHMARKS.md, peak memory). Sinks get records whose attribute maps are shared
// and must not change them (see Sink).
type spanRecords struct {
	from    time.Time
	res     time.Duration
	series  []series
	windows [][]point
	texts   []string // ids that are not 32 hex digits, and log bodies (point.text)
	dropped int      // points of the series outside the span
	// seal drops a record read again (the pager re-reads rather than skips, see internal/calm)
	// and counts it in repeats; one whose id another content has is a collision: dropped,
	// counted and reported.
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

// point is the rest of a record, without a pointer: 48 bytes.
type point struct {
	id       [16]byte // the id's 32 hex digits as bytes (record ids are); zero when idText is set
	t        int64    // Time in Unix nanoseconds (UTC)
	value    float64
	series   int32
	idText   int32 // 1 + the index in texts of an id that is not 32 hex digits; 0: none
	body     int32 // 1 + the index in texts of the body; 0: none
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
	return &spanRecords{from: span.From, res: res, windows: make([][]point, n)}
}

// digest is what tells two records of one id apart: name, body, value and time (every NaN
// alike, as they write alike).
func (s *spanRecords) digest(p *point) uint64 {
	var h maphash.Hash
	h.SetSeed(digestSeed)
	h.WriteString(s.series[p.series].name)
	h.WriteByte(0)
	if p.body > 0 {
		h.WriteString(s.texts[p.body-1])
	}
	h.WriteByte(0)
	bits := math.Float64bits(p.value)
	if math.IsNaN(p.value) {
		bits = math.Float64bits(math.NaN())
	}
	var b [17]byte
	binary.LittleEndian.PutUint64(b[0:], bits)
	binary.LittleEndian.PutUint64(b[8:], uint64(p.t))
	if p.hasValue {
		b[16] = 1
	}
	h.Write(b[:])
	return h.Sum64()
}

var digestSeed = maphash.MakeSeed()

// add keeps rec in window i; seal drops it later when its id is there already.
func (s *spanRecords) add(i int, rec record.Record) {
	p := point{t: rec.Time.UnixNano(), value: rec.Value, hasValue: rec.HasValue}
	if id, ok := hexID(rec.ID); ok {
		p.id = id
	} else {
		p.idText = s.text(rec.ID)
	}
	if rec.Body != "" {
		p.body = s.text(rec.Body)
	}
	p.series = s.seriesOf(&rec)
	s.windows[i] = append(s.windows[i], p)
}

// seal drops, window by window, every record whose id came before it: one of the same content
// (read again) counts as a repeat, one of another content as a collision (the first is kept,
// one example is named). The records keep their order. One id has one time, so its records
// share a window: a map of one window at a time does, not one of the whole span.
func (s *spanRecords) seal() {
	byHex := map[[16]byte]int32{} // id → index of its first record in the window
	byText := map[string]int32{}
	for w, pts := range s.windows {
		clear(byHex)
		clear(byText)
		kept := pts[:0]
		for _, p := range pts {
			var first int32
			var seen bool
			if p.idText == 0 {
				if first, seen = byHex[p.id]; !seen {
					byHex[p.id] = int32(len(kept))
				}
			} else if first, seen = byText[s.texts[p.idText-1]]; !seen {
				byText[s.texts[p.idText-1]] = int32(len(kept))
			}
			switch {
			case !seen:
				kept = append(kept, p)
			case s.digest(&kept[first]) == s.digest(&p):
				s.repeats++
			default:
				s.collisions++
				if s.collision == "" {
					s.collision = fmt.Sprintf("id %s: %s at %s, and again with other content", s.idOf(&p), s.series[p.series].name,
						time.Unix(0, p.t).UTC().Format(time.RFC3339))
				}
			}
		}
		s.windows[w] = kept
	}
}

// reset forgets the records of windows [i, j): a part read again in smaller parts.
func (s *spanRecords) reset(i, j int) {
	for w := i; w < j && w < len(s.windows); w++ {
		s.windows[w] = nil
	}
}

// text keeps t and returns 1 + its index.
func (s *spanRecords) text(t string) int32 {
	s.texts = append(s.texts, t)
	return int32(len(s.texts))
}

// hexID returns the 16 bytes of an id of 32 lowercase hex digits, as record ids are.
func hexID(id string) (b [16]byte, ok bool) {
	if len(id) != 32 {
		return b, false
	}
	for i := range b {
		hi, ok1 := fromHex(id[2*i])
		lo, ok2 := fromHex(id[2*i+1])
		if !ok1 || !ok2 {
			return [16]byte{}, false
		}
		b[i] = hi<<4 | lo
	}
	return b, true
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// seriesOf returns the index of rec's series: one of the latest when it matches, a new one
// otherwise. Consecutive points mostly belong to one series, so a short look back finds it;
// a miss only costs a map that is not shared.
func (s *spanRecords) seriesOf(rec *record.Record) int32 {
	for i := len(s.series) - 1; i >= 0 && i >= len(s.series)-recentSeries; i-- {
		sr := &s.series[i]
		if sr.name == rec.Name && sr.unit == rec.Unit && sr.kind == rec.Kind && sr.count == rec.Count &&
			sr.tenant == rec.Tenant && sr.monitor == rec.Monitor && sameAttrs(sr.attrs, rec.Attributes) {
			return int32(i)
		}
	}
	s.series = append(s.series, series{
		tenant: rec.Tenant, monitor: rec.Monitor, kind: rec.Kind, name: rec.Name, unit: rec.Unit,
		count: rec.Count, attrs: rec.Attributes,
	})
	return int32(len(s.series) - 1)
}

// sameAttrs reports whether a and b hold the same attributes (both nil, or neither). One map
// (the converter shares a series' map among its points: record.FromMetrics) is found without
// reading it.
func sameAttrs(a, b map[string]string) bool {
	if (a == nil) != (b == nil) {
		return false
	}
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer() || maps.Equal(a, b)
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
			ID: s.idOf(&p), Tenant: sr.tenant, Monitor: sr.monitor, Kind: sr.kind, Name: sr.name,
			Time: time.Unix(0, p.t).UTC(), Value: p.value, HasValue: p.hasValue, Unit: sr.unit, Count: sr.count,
			Attributes: sr.attrs,
		}
		if p.body > 0 {
			out[j].Body = s.texts[p.body-1]
		}
	}
	return out
}

func (s *spanRecords) idOf(p *point) string {
	if p.idText > 0 {
		return s.texts[p.idText-1]
	}
	return hex.EncodeToString(p.id[:])
}
