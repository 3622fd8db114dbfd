package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// The NDJSON encoding of a Record (docs/design.md §4), one object per line:
//
//	{"id":"…","tenant":"…","monitor":"…","kind":"metric","name":"…","time":"2026-11-25T10:05:00Z",
//	 "value":12.5,"unit":"%","body":"…","attributes":{"a":"…","b":"…"}}
//
//   - Keys always come in this order and attributes in sorted key order, so the same record
//     always encodes to the same bytes.
//   - "time" is RFC 3339 in UTC; a fractional second is written only when it is not zero
//     (time.RFC3339Nano, which drops trailing zeros).
//   - "value" is present only when HasValue is true, "unit" and "body" only when not empty;
//     "attributes" is always present ({} when there are none), so every line has the same shape.
//   - Numbers and strings are written exactly as encoding/json writes them (numbers in 'f'
//     notation between 1e-6 and 1e21, exponent notation outside; <, >, &, U+2028 and U+2029
//     escaped; invalid UTF-8 replaced by \ufffd). A record therefore encodes to the same bytes
//     as json.Marshal of the equivalent struct, which the tests check.
//   - NaN and ±Inf are not JSON numbers: they are written as the strings "NaN", "+Inf" and
//     "-Inf" (the OTLP/Prometheus spelling), and Decode reads them back. A consumer that types
//     "value" as a double must treat a string there as a non-finite value.
//   - Integer OTLP values are carried as float64: exact up to 2^53.

// AppendJSON appends the JSON encoding of r (one line, without the newline) to dst and returns
// the extended buffer.
func AppendJSON(dst []byte, r *Record) []byte { return r.AppendJSON(dst, &r.Point) }

// AppendJSON appends the JSON encoding of the record of s and p (one line, without the
// newline) to dst and returns the extended buffer. The attributes are copied as s encoded them
// once.
func (s *Series) AppendJSON(dst []byte, p *Point) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, p.ID)
	dst = append(dst, `,"tenant":`...)
	dst = appendString(dst, s.tenant)
	dst = append(dst, `,"monitor":`...)
	dst = appendString(dst, s.monitor)
	dst = append(dst, `,"kind":`...)
	dst = appendString(dst, s.kind)
	dst = append(dst, `,"name":`...)
	dst = appendString(dst, s.name)
	dst = append(dst, `,"time":"`...)
	dst = p.Time.UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, '"')
	if p.HasValue {
		dst = append(dst, `,"value":`...)
		dst = appendFloat(dst, p.Value)
	}
	if s.unit != "" {
		dst = append(dst, `,"unit":`...)
		dst = appendString(dst, s.unit)
	}
	if p.Body != "" {
		dst = append(dst, `,"body":`...)
		dst = appendString(dst, p.Body)
	}
	dst = append(dst, `,"attributes":{`...)
	dst = append(dst, s.json...)
	return append(dst, "}}"...)
}

// MarshalJSON returns the encoding of AppendJSON.
func (r Record) MarshalJSON() ([]byte, error) {
	return AppendJSON(make([]byte, 0, 256), &r), nil
}

// wire is the decoding shape of a record.
type wire struct {
	ID         string            `json:"id"`
	Tenant     string            `json:"tenant"`
	Monitor    string            `json:"monitor"`
	Kind       string            `json:"kind"`
	Name       string            `json:"name"`
	Time       string            `json:"time"`
	Value      json.RawMessage   `json:"value"`
	Unit       string            `json:"unit"`
	Body       string            `json:"body"`
	Attributes map[string]string `json:"attributes"`
}

// UnmarshalJSON decodes one record written by AppendJSON (or any JSON of the same shape).
func (r *Record) UnmarshalJSON(data []byte) error {
	var w wire
	if err := json.Unmarshal(data, &w); err != nil {
		return fmt.Errorf("decode record: %w", err)
	}
	var t time.Time
	if w.Time != "" {
		var err error
		t, err = time.Parse(time.RFC3339Nano, w.Time)
		if err != nil {
			return fmt.Errorf("decode record %q: field \"time\" must be RFC 3339: %w", w.ID, err)
		}
	}
	v, has, err := decodeValue(w.Value)
	if err != nil {
		return fmt.Errorf("decode record %q: field \"value\": %w", w.ID, err)
	}
	*r = Record{
		Series: NewSeries(w.Tenant, w.Monitor, w.Kind, w.Name, w.Unit, false, w.Attributes), Point: Point{ID: w.ID, Time: t.UTC(), Value: v, HasValue: has, Body: w.Body}}
	return nil
}

// Decode decodes one NDJSON line (surrounding white space, such as the newline, is ignored).
func Decode(line []byte) (Record, error) {
	var r Record
	err := r.UnmarshalJSON(line)
	return r, err
}

func decodeValue(raw json.RawMessage) (float64, bool, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false, nil
	}
	if raw[0] == '"' {
		switch string(raw) {
		case `"NaN"`:
			return math.NaN(), true, nil
		case `"+Inf"`:
			return math.Inf(1), true, nil
		case `"-Inf"`:
			return math.Inf(-1), true, nil
		}
		return 0, false, fmt.Errorf("want a number, \"NaN\", \"+Inf\" or \"-Inf\", got %s", raw)
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		return 0, false, fmt.Errorf("want a number: %w", err)
	}
	return f, true, nil
}

// appendFloat writes f the way encoding/json does, and NaN/±Inf as JSON strings.
func appendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"+Inf"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Inf"`...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9, like encoding/json
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// appendAttrs writes attributes sorted by key as the members of a JSON object.
func appendAttrs(dst []byte, sorted []pair) []byte {
	for i, p := range sorted {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, p.k)
		dst = append(dst, ':')
		dst = appendString(dst, p.v)
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// safe reports the ASCII bytes that encoding/json writes unescaped (its htmlSafeSet): printable
// ASCII except '"', '\\', '<', '>' and '&'.
var safe = func() (s [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		s[b] = true
	}
	for _, b := range `"\<>&` {
		s[b] = false
	}
	return s
}()

// appendString writes s as a JSON string, byte for byte as encoding/json does.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if safe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				// other control bytes, and <, >, & (unsafe when JSON ends up inside HTML)
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 are valid in JSON but end a line in JavaScript.
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
