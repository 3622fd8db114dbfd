// Package wire reads protobuf messages field by field without decoding them, as the decoder a
// reading stands in for would: the counts and checks of internal/calm (metrics and logs pages)
// and internal/sink (export responses, google.rpc.Status) must see a body as the decoder that
// later reads it, or not, does. Two decoders read the wire differently, and every reader names
// which one it stands in for:
//   - pdata (OTLP payloads, Pdata) reads a varint of ten bytes whatever its last byte holds,
//     keeping the low 64 bits, where the protobuf runtime refuses one above 2^64-1; so a tag,
//     a varint value or a length may be accepted by one and refused by the other;
//   - pdata skips a field number above 2^29-1 as an unknown field and keeps only the low 32
//     bits of a larger one; the protobuf runtime (google.rpc.Status, Runtime) refuses both.
//
// The differential fuzz tests of both packages found bodies on which they part.
package wire

import "google.golang.org/protobuf/encoding/protowire"

// A Reading reads the wire as one decoder does.
type Reading int

const (
	// Pdata reads as go.opentelemetry.io/collector/pdata's generated decoder
	// (pdata/internal/proto: ConsumeTag, ConsumeVarint, ConsumeLen).
	Pdata Reading = iota
	// Runtime reads as the protobuf runtime's unmarshaler (google.golang.org/protobuf).
	Runtime
)

// Error codes, as protowire.ParseError reads them.
const (
	errTruncated = -1 // unexpected end of input
	errOverflow  = -3 // a varint longer than ten bytes
)

// Varint reads a varint at the start of b: its value and length (negative: a protowire error
// code). Pdata keeps the low 64 bits of a ten-byte varint whose last byte is above 1; Runtime
// refuses it.
func (r Reading) Varint(b []byte) (uint64, int) {
	if r == Runtime {
		return protowire.ConsumeVarint(b)
	}
	var v uint64
	for i := 0; i < 10; i++ {
		if i >= len(b) {
			return 0, errTruncated
		}
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, errOverflow
}

// Tag reads a field's tag at the start of b: its number, wire type and length (negative: a
// protowire error code). Pdata takes the field number as the tag's upper bits read as an int32,
// which must be positive; Runtime refuses a number above 2^29-1 (protowire.MaxValidNumber).
func (r Reading) Tag(b []byte) (protowire.Number, protowire.Type, int) {
	v, n := r.Varint(b)
	if n < 0 {
		return 0, 0, n
	}
	num := protowire.Number(int32(v >> 3))
	if r == Runtime {
		if v>>3 > uint64(protowire.MaxValidNumber) {
			return 0, 0, -1
		}
		num = protowire.Number(v >> 3)
	}
	if num <= 0 {
		return 0, 0, -1
	}
	return num, protowire.Type(v & 7), n
}

// Bytes reads a length-delimited value at the start of b: its content and the length of the
// whole value, prefix and content (negative: a protowire error code).
func (r Reading) Bytes(b []byte) ([]byte, int) {
	size, n := r.Varint(b)
	if n < 0 {
		return nil, n
	}
	if size > uint64(len(b)-n) {
		return nil, errTruncated
	}
	return b[n : n+int(size)], n + int(size)
}

// A Field is one field of a message as a Reading reads it.
type Field struct {
	Num  protowire.Number
	Type protowire.Type
	Raw  []byte // the field as written, tag and value
	// Data is a length-delimited field's content, Varint a varint field's value.
	Data   []byte
	Varint uint64
}

// Fields calls fn with every field of msg in order. It stops at the first malformed field (a
// protowire.ParseError) or the first error fn returns. Groups, which proto3 and so OTLP never
// write, are skipped as protowire skips them in either reading; pdata's own skipping of them is
// looser in places.
func (r Reading) Fields(msg []byte, fn func(Field) error) error {
	for b := msg; len(b) > 0; {
		num, typ, n := r.Tag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		f := Field{Num: num, Type: typ}
		var m int
		switch typ {
		case protowire.VarintType:
			f.Varint, m = r.Varint(b[n:])
		case protowire.BytesType:
			f.Data, m = r.Bytes(b[n:])
		default:
			m = protowire.ConsumeFieldValue(num, typ, b[n:])
		}
		if m < 0 {
			return protowire.ParseError(m)
		}
		f.Raw = b[:n+m]
		if err := fn(f); err != nil {
			return err
		}
		b = b[n+m:]
	}
	return nil
}
