package record

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"slices"
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

// Record is one collected data point, status event, log line or span (docs/design.md §4).
type Record struct {
	ID      string
	Tenant  string
	Monitor string
	Kind    string
	Name    string
	Time    time.Time // UTC
	// Value is the data point's value, or a span's duration; HasValue is false for events and logs.
	Value    float64
	HasValue bool
	Unit     string
	// Count is true when the source metric was an OTLP delta sum: a count of what happened in
	// the point's bucket. The OTLP sink sends such points as delta sums again. It is not part of
	// the NDJSON record (docs/design.md §4) and reads back false.
	Count bool
	// Body is the log line of a KindLog record (empty otherwise).
	Body string
	// Attributes are resource attributes merged with data-point attributes (the data point wins).
	Attributes map[string]string
}

// PointID returns the stable id of a data point: the same tenant, monitor, name, attributes and
// time always give the same id, on any run and any machine. Attribute order does not matter.
func PointID(tenant, monitor, name string, attrs map[string]string, t time.Time) string {
	h := sha256.New()
	writeField(h, tenant)
	writeField(h, monitor)
	writeField(h, name)
	writeAttrs(h, attrs)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(t.UTC().UnixNano()))
	h.Write(b[:])
	return sum(h)
}

// ContentID returns an id that changes whenever any part of the record's content changes: used
// for events, which get a new id only when their content (status, end time, ...) changes.
func ContentID(tenant, monitor, name string, attrs map[string]string, t time.Time, body string) string {
	h := sha256.New()
	writeField(h, "content")
	writeField(h, tenant)
	writeField(h, monitor)
	writeField(h, name)
	writeAttrs(h, attrs)
	writeField(h, t.UTC().Format(time.RFC3339Nano))
	writeField(h, body)
	return sum(h)
}

func writeAttrs(h hash.Hash, attrs map[string]string) {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(keys)))
	h.Write(n[:])
	for _, k := range keys {
		writeField(h, k)
		writeField(h, attrs[k])
	}
}

// writeField writes a length-prefixed string so that ("ab","c") and ("a","bc") hash differently.
func writeField(h hash.Hash, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}

// sum returns the first 128 bits of the hash in hex: enough to make collisions practically impossible.
func sum(h hash.Hash) string {
	var buf [sha256.Size]byte
	return hex.EncodeToString(h.Sum(buf[:0])[:16])
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
