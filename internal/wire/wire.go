// Package wire reads protobuf messages field by field without decoding them, as the decoder a
// reading stands in for would: the counts and checks of internal/calm (metrics and logs pages)
// and internal/sink (export responses, google.rpc.Status) must see a body as the decoder that
// later reads it, or not, does. Two decoders read a field's tag differently, and every reader
// names which one it stands in for: pdata (OTLP payloads, Pdata) skips a field number above
// 2^29-1 as an unknown field and keeps only the low 32 bits of a larger one, the protobuf
// runtime (google.rpc.Status, Runtime) refuses both as malformed. The differential fuzz tests of both packages found bodies on which they part.
package wire

import "google.golang.org/protobuf/encoding/protowire"

// A Reading reads a field's tag at the start of b: its number, wire type and length (negative:
// a protowire error code).
type Reading func(b []byte) (protowire.Number, protowire.Type, int)

// Pdata reads a tag as pdata's decoder does: the field number is the tag's upper bits as an
// int32 and must be positive.
func Pdata(b []byte) (protowire.Number, protowire.Type, int) {
	v, n := protowire.ConsumeVarint(b)
	if n < 0 {
		return 0, 0, n
	}
	num := int32(v >> 3)
	if num <= 0 {
		return 0, 0, -1
	}
	return protowire.Number(num), protowire.Type(v & 7), n
}

// Runtime reads a tag as the protobuf runtime's unmarshaler does: protowire.ConsumeTag, and a
// field number above 2^29-1 (protowire.MaxValidNumber) is malformed.
func Runtime(b []byte) (protowire.Number, protowire.Type, int) {
	num, typ, n := protowire.ConsumeTag(b)
	if n >= 0 && num > protowire.MaxValidNumber {
		return 0, 0, -1
	}
	return num, typ, n
}

// Fields calls fn with every field of msg in order, its tag read with read: the field's number,
// wire type, encoded tag and encoded value. It stops at the first malformed field (a
// protowire.ParseError) or the first error fn returns.
func Fields(msg []byte, read Reading, fn func(num protowire.Number, typ protowire.Type, tag, value []byte) error) error {
	for b := msg; len(b) > 0; {
		num, typ, n := read(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return protowire.ParseError(m)
		}
		if err := fn(num, typ, b[:n], b[n:n+m]); err != nil {
			return err
		}
		b = b[n+m:]
	}
	return nil
}
