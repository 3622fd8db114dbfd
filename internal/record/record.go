package record

import (
	"bytes"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"iter"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Kinds of record.
const (
	KindMetric = "metric"
	KindEvent  = "event"
	KindLog    = "log"
	KindSpan   = "span" // one span of a trace (fromtraces.go)
)

// Record is one collected data point, status event, log line or span (docs/design.md §4): the
// series it belongs to and the point itself. Where many points of a series travel together (a
// window's batch), they travel as a Run: the series once, then its points.
type Record struct {
	*Series
	Point
}

// Point is what a record has of its own: its id, time and value, or its body.
type Point struct {
	ID   string
	Time time.Time // UTC
	// Value is the data point's value, or a span's duration; HasValue is false for events and logs.
	Value    float64
	HasValue bool
	// Body is the log line of a KindLog record (empty otherwise).
	Body string
}

// Run is one series and points of it, in the order they came.
type Run struct {
	*Series
	Points []Point
}

// Record returns the record of the run's point i.
func (r Run) Record(i int) Record { return Record{Series: r.Series, Point: r.Points[i]} }

// Runs returns recs as runs, in their order: each run holds the records that follow one another
// with one *Series. The points share one array.
func Runs(recs []Record) []Run {
	pts := make([]Point, len(recs))
	for i := range recs {
		pts[i] = recs[i].Point
	}
	return RunsOf(pts, func(i int) *Series { return recs[i].Series })
}

// RunsOf cuts pts, point i of series seriesOf(i), into runs wherever the series changes. The
// runs share pts.
func RunsOf(pts []Point, seriesOf func(i int) *Series) []Run {
	var runs []Run
	start := 0
	for i := range pts {
		if i+1 == len(pts) || seriesOf(i+1) != seriesOf(i) {
			runs = append(runs, Run{Series: seriesOf(i), Points: pts[start : i+1 : i+1]})
			start = i + 1
		}
	}
	return runs
}

// Series is what every point of one series shares. It is immutable: NewSeries (or a converter)
// makes it, with its attributes sorted and encoded as JSON once, and any number of records and
// goroutines share it.
type Series struct {
	tenant, monitor, kind, name, unit string
	count                             bool
	attrs                             []pair // sorted by key, keys unique
	json                              []byte // attrs as a record's line writes them, inside the braces
}

// pair is one attribute with its value as a string.
type pair struct{ k, v string }

// NewSeries returns the series of those fields. attrs are the resource attributes merged with
// the point's (the point wins); the series keeps a copy. Count is true when the source metric
// was an OTLP delta sum: a count of what happened in the point's bucket, which the OTLP sink
// sends as a delta sum again; it is not part of the NDJSON record (docs/design.md §4).
func NewSeries(tenant, monitor, kind, name, unit string, count bool, attrs map[string]string) *Series {
	return newSeries(tenant, monitor, kind, name, unit, count, sortedOf(attrs))
}

func sortedOf(attrs map[string]string) []pair {
	pairs := make([]pair, 0, len(attrs))
	for k, v := range attrs {
		pairs = append(pairs, pair{k, v})
	}
	slices.SortFunc(pairs, func(a, b pair) int { return strings.Compare(a.k, b.k) })
	return pairs
}

// newSeries makes a series of attributes sorted by key, keys unique; it keeps sorted.
func newSeries(tenant, monitor, kind, name, unit string, count bool, sorted []pair) *Series {
	s := &Series{tenant: tenant, monitor: monitor, kind: kind, name: name, unit: unit, count: count}
	if len(sorted) > 0 {
		x := idHashes.Get().(*idHash)
		defer idHashes.Put(x)
		x.b = appendAttrs(x.b[:0], sorted)
		s.attrs, s.json = sorted, bytes.Clone(x.b)
	}
	return s
}

// sibling returns the series of s's tenant, monitor and attributes under another kind, name,
// unit or Count. The two share their attributes and their JSON (both immutable): the measures
// of one data point's series are as many series, and a span holds thousands of them.
func (s *Series) sibling(kind, name, unit string, count bool) *Series {
	return &Series{tenant: s.tenant, monitor: s.monitor, kind: kind, name: name, unit: unit, count: count, attrs: s.attrs, json: s.json}
}

// The fields of the series; NumAttrs is how many attributes it has.

func (s *Series) Tenant() string  { return s.tenant }
func (s *Series) Monitor() string { return s.monitor }
func (s *Series) Kind() string    { return s.kind }
func (s *Series) Name() string    { return s.name }
func (s *Series) Unit() string    { return s.unit }
func (s *Series) Count() bool     { return s.count }
func (s *Series) NumAttrs() int   { return len(s.attrs) }

// Attr returns the value of the attribute key, "" when there is none.
func (s *Series) Attr(key string) string {
	v, _ := s.LookupAttr(key)
	return v
}

// LookupAttr returns the value of the attribute key and whether the series has it.
func (s *Series) LookupAttr(key string) (string, bool) {
	i, ok := slices.BinarySearchFunc(s.attrs, key, byKey)
	if !ok {
		return "", false
	}
	return s.attrs[i].v, true
}

// Attrs yields the attributes in key order.
func (s *Series) Attrs() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, p := range s.attrs {
			if !yield(p.k, p.v) {
				return
			}
		}
	}
}

// AttrMap returns a new map of the attributes.
func (s *Series) AttrMap() map[string]string {
	m := make(map[string]string, len(s.attrs))
	for _, p := range s.attrs {
		m[p.k] = p.v
	}
	return m
}

// PointID returns the stable id of the series' data point at t: the same tenant, monitor, name,
// attributes and time always give the same id, on any run and any machine.
func (s *Series) PointID(t time.Time) string {
	k := seriesIDs{s: s}
	return k.pointID(t)
}

// seriesIDs takes the PointIDs of one series, keeping the hash state after the series' key
// for the points after the first: a converter keeps one for each series of its page, for
// as long as the page is converted.
type seriesIDs struct {
	s     *Series
	state [112]byte // a SHA-256 state (108 bytes), the first n
	n     uint8
}

func (k *seriesIDs) pointID(t time.Time) string {
	x := idHashes.Get().(*idHash)
	defer idHashes.Put(x)
	if k.n == 0 || x.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(k.state[:k.n]) != nil {
		x.h.Reset()
		x.b = k.s.appendKey(x.b[:0])
		x.h.Write(x.b)
		if st, err := x.h.(encoding.BinaryAppender).AppendBinary(k.state[:0]); err == nil && len(st) <= len(k.state) {
			k.n = uint8(len(st))
		}
	}
	x.b = binary.BigEndian.AppendUint64(x.b[:0], uint64(t.UTC().UnixNano()))
	return x.id()
}

// ContentID returns an id that changes whenever any part of the record's content changes: used
// for events and logs, which get a new id only when their content (status, end time, ...)
// changes.
func (s *Series) ContentID(t time.Time, body string) string {
	x := idHashes.Get().(*idHash)
	defer idHashes.Put(x)
	x.h.Reset()
	x.b = s.appendKey(appendField(x.b[:0], "content"))
	x.b = appendField(x.b, t.UTC().Format(time.RFC3339Nano))
	x.b = appendField(x.b, body)
	return x.id()
}

// PointID is the PointID of a series of those fields at t. Attribute order does not matter.
func PointID(tenant, monitor, name string, attrs map[string]string, t time.Time) string {
	s := Series{tenant: tenant, monitor: monitor, name: name, attrs: sortedOf(attrs)}
	return s.PointID(t)
}

// EventKey identifies a status event across its changes (a new status, an end time): its
// eventId, else the PointID of its type, service and name at its start, the record's time.
// The collector's open-events state and the alert sink's event state both key events by it.
func (r Record) EventKey() string {
	if id := r.Attr("eventId"); id != "" {
		return id
	}
	return PointID(r.Tenant(), r.Monitor(), r.Name(), map[string]string{
		"eventType": r.Attr("eventType"), "serviceName": r.Attr("serviceName"), "eventName": r.Attr("eventName"),
	}, r.Time)
}

// idHash hashes the bytes of an id, without allocating but for the id.
type idHash struct {
	h   hash.Hash
	b   []byte
	sum [sha256.Size]byte
}

var idHashes = sync.Pool{New: func() any { return &idHash{h: sha256.New()} }}

// id writes x.b and returns the first 128 bits of the hash in hex: enough to make collisions
// practically impossible.
func (x *idHash) id() string {
	x.h.Write(x.b)
	var id [32]byte
	hex.Encode(id[:], x.h.Sum(x.sum[:0])[:16])
	return string(id[:])
}

// appendKey appends the bytes of the series that its ids hash: tenant, monitor, name and
// attributes, each string length-prefixed so that ("ab","c") and ("a","bc") differ.
func (s *Series) appendKey(b []byte) []byte {
	b = appendField(b, s.tenant)
	b = appendField(b, s.monitor)
	b = appendField(b, s.name)
	b = binary.BigEndian.AppendUint64(b, uint64(len(s.attrs)))
	for _, p := range s.attrs {
		b = appendField(b, p.k)
		b = appendField(b, p.v)
	}
	return b
}

func appendField(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

// ValidText returns s with each byte that is not part of valid UTF-8 replaced by U+FFFD, as the
// JSON line writes it (appendString, like encoding/json): a record holds the text its line
// carries, so its id, its attributes and the line agree, and two keys that differ only in
// invalid bytes become one (the later wins). Valid text, nearly all of it, is returned as is.
func ValidText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError) // one U+FFFD per invalid byte, as appendString
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}
