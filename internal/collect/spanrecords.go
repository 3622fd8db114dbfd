package collect

import (
	"encoding/hex"
	"fmt"
	"math"
	"time"

	"github.com/calm-collector/calm-collector/internal/record"
)

// spanRecords holds the records of one span, window by window, until the span's last page is
// in (the API orders points by service, measure, series and time, so no window is complete
// before then), in a compact form: a record is kept as its id, time and value plus the index of
// its *record.Series, which the records of one series share in every window of the span. batch
// makes the records of one window again when it is delivered.
//
// Why: held as record.Record, one hour of a 240-service landscape (43,200 hm points) is several
// times larger; this way the points are pointer-free arrays the garbage collector does not scan
// (BENCHMARKS.md, peak memory).
type spanRecords struct {
	from     time.Time
	res      time.Duration
	series   []*record.Series
	seriesAt map[*record.Series]int32 // the index of each in series
	windows  [][]point
	texts    []string // ids that are not 32 hex digits, and log bodies (point.text)
	dropped  int      // points of the series outside the span
	// seal drops a record read again (the pager re-reads rather than skips, see internal/calm)
	// and counts it in repeats; one whose id another content has is a collision: dropped,
	// counted and reported.
	repeats    int
	collisions int
	collision  string // one example: the id and both names
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

func newSpanRecords(span Range, res time.Duration) *spanRecords {
	n := int(span.To.Sub(span.From) / res)
	if span.To.Sub(span.From)%res != 0 {
		n++
	}
	return &spanRecords{from: span.From, res: res, windows: make([][]point, n), seriesAt: map[*record.Series]int32{}}
}

// same reports whether two records of one id have one content: name, body, value and time
// (every NaN alike, as they write alike).
func (s *spanRecords) same(a, b *point) bool {
	return s.series[a.series].Name() == s.series[b.series].Name() && s.bodyOf(a) == s.bodyOf(b) && a.t == b.t &&
		a.hasValue == b.hasValue && (math.Float64bits(a.value) == math.Float64bits(b.value) || math.IsNaN(a.value) && math.IsNaN(b.value))
}

func (s *spanRecords) bodyOf(p *point) string {
	if p.body == 0 {
		return ""
	}
	return s.texts[p.body-1]
}

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
			case s.same(&kept[first], &p):
				s.repeats++
			default:
				s.collisions++
				if s.collision == "" {
					s.collision = fmt.Sprintf("id %s: %s at %s, and again with other content", s.idOf(&p), s.series[p.series].Name(),
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

// seriesOf returns the index of rec's series.
func (s *spanRecords) seriesOf(rec *record.Record) int32 {
	i, ok := s.seriesAt[rec.Series]
	if !ok {
		i = int32(len(s.series))
		s.series = append(s.series, rec.Series)
		s.seriesAt[rec.Series] = i
	}
	return i
}

// batch returns the records of window i as runs of one series, in the order they came, and
// lets go of the window.
func (s *spanRecords) batch(i int) []record.Run {
	pts := s.windows[i]
	s.windows[i] = nil
	if len(pts) == 0 {
		return nil
	}
	out := make([]record.Point, len(pts))
	for j, p := range pts {
		out[j] = record.Point{ID: s.idOf(&p), Time: time.Unix(0, p.t).UTC(), Value: p.value, HasValue: p.hasValue, Body: s.bodyOf(&p)}
	}
	return record.RunsOf(out, func(j int) *record.Series { return s.series[pts[j].series] })
}

func (s *spanRecords) idOf(p *point) string {
	if p.idText > 0 {
		return s.texts[p.idText-1]
	}
	return hex.EncodeToString(p.id[:])
}
