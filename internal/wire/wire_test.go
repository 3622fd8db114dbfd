package wire

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

func fieldNums(t *testing.T, r Reading, msg []byte) ([]protowire.Number, error) {
	t.Helper()
	var nums []protowire.Number
	err := r.Fields(msg, func(f Field) error {
		nums = append(nums, f.Num)
		return nil
	})
	return nums, err
}

// The two readings part on a field number above 2^29-1 (a varint tag of five bytes): pdata
// reads the field and skips it, the protobuf runtime refuses the message. Below it they agree.
func TestReadingsPartAboveTheLargestFieldNumber(t *testing.T) {
	big := protowire.AppendVarint(nil, uint64(protowire.MaxValidNumber+1)<<3|uint64(protowire.VarintType))
	big = protowire.AppendVarint(big, 7)
	msg := protowire.AppendTag(nil, 1, protowire.BytesType)
	msg = protowire.AppendBytes(msg, []byte("a"))
	msg = append(msg, big...)

	nums, err := fieldNums(t, Pdata, msg)
	if err != nil || !slices.Equal(nums, []protowire.Number{1, protowire.MaxValidNumber + 1}) {
		t.Errorf("Pdata: fields %v, %v; want 1 and %d", nums, err, protowire.MaxValidNumber+1)
	}
	if _, err := fieldNums(t, Runtime, msg); err == nil {
		t.Error("Runtime read a field number above 2^29-1; want a parse error")
	}
	if _, err := fieldNums(t, Runtime, msg[:len(msg)-len(big)]); err != nil {
		t.Errorf("Runtime below the largest number: %v", err)
	}
	for _, bad := range [][]byte{{0x00}, {0x80}} { // field 0; a cut varint
		for _, r := range []Reading{Pdata, Runtime} {
			if _, _, n := r.Tag(bad); n >= 0 {
				t.Errorf("reading %d: Tag(%x) = %d, want an error", r, bad, n)
			}
		}
	}
}

// A ten-byte varint whose last byte is above 1 overflows 64 bits: pdata keeps the low 64 bits
// (its ConsumeVarint), the protobuf runtime refuses it. As a value, a length or a tag.
func TestReadingsPartOnAnOverflowingVarint(t *testing.T) {
	zero := []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02} // 0 to pdata
	if v, n := Pdata.Varint(zero); v != 0 || n != 10 {
		t.Errorf("Pdata.Varint = %d, %d; want 0, 10", v, n)
	}
	if _, n := Runtime.Varint(zero); n >= 0 {
		t.Errorf("Runtime.Varint read %d bytes; want an overflow", n)
	}
	eleven := append(slices.Clone(zero[:9]), 0x80, 0x00)
	if _, n := Pdata.Varint(eleven); n >= 0 {
		t.Errorf("Pdata.Varint read an eleven-byte varint")
	}

	value := append(protowire.AppendTag(nil, 3, protowire.VarintType), zero...)
	length := append(append(protowire.AppendTag(nil, 4, protowire.BytesType), zero...), protowire.AppendTag(nil, 5, protowire.VarintType)...)
	length = append(length, 9)
	tag := append([]byte{0x8a}, zero[1:]...) // field 1, length-delimited, to pdata
	tag = append(tag, 0)                     // of length 0
	for _, tt := range []struct {
		name string
		msg  []byte
		want []protowire.Number // the fields Pdata reads; nil: it refuses the message too
	}{
		{"value", value, []protowire.Number{3}},
		{"length", length, []protowire.Number{4, 5}},
		{"tag", tag, []protowire.Number{1}},
		{"field 0", append(slices.Clone(zero), 0), nil},
	} {
		nums, err := fieldNums(t, Pdata, tt.msg)
		if tt.want == nil && err == nil || tt.want != nil && (err != nil || !slices.Equal(nums, tt.want)) {
			t.Errorf("%s: Pdata read %v, %v; want %v", tt.name, nums, err, tt.want)
		}
		if _, err := fieldNums(t, Runtime, tt.msg); err == nil {
			t.Errorf("%s: Runtime read an overflowing varint", tt.name)
		}
	}
}
