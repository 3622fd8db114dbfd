package wire

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// The two readings part on a field number above 2^29-1 (a varint tag of five bytes): pdata
// reads the field and skips it, the protobuf runtime refuses the message. Below it they agree.
func TestReadingsPartAboveTheLargestFieldNumber(t *testing.T) {
	big := protowire.AppendVarint(nil, uint64(protowire.MaxValidNumber+1)<<3|uint64(protowire.VarintType))
	big = protowire.AppendVarint(big, 7)
	msg := protowire.AppendTag(nil, 1, protowire.BytesType)
	msg = protowire.AppendBytes(msg, []byte("a"))
	msg = append(msg, big...)

	var nums []protowire.Number
	err := Fields(msg, Pdata, func(num protowire.Number, _ protowire.Type, _, _ []byte) error {
		nums = append(nums, num)
		return nil
	})
	if err != nil || !slices.Equal(nums, []protowire.Number{1, protowire.MaxValidNumber + 1}) {
		t.Errorf("Pdata: fields %v, %v; want 1 and %d", nums, err, protowire.MaxValidNumber+1)
	}
	if err := Fields(msg, Runtime, func(protowire.Number, protowire.Type, []byte, []byte) error { return nil }); err == nil {
		t.Error("Runtime read a field number above 2^29-1; want a parse error")
	}
	if err := Fields(msg[:len(msg)-len(big)], Runtime, func(protowire.Number, protowire.Type, []byte, []byte) error { return nil }); err != nil {
		t.Errorf("Runtime below the largest number: %v", err)
	}
	for _, bad := range [][]byte{{0x00}, {0x80}} { // field 0; a cut varint
		if _, _, n := Pdata(bad); n >= 0 {
			t.Errorf("Pdata(%x) = %d, want an error", bad, n)
		}
	}
}
