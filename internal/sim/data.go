package sim

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"time"
)

// service is one simulated Cloud ALM service (a managed system or cloud service).
type service struct {
	ID, Name, Type, TypeLabel, Description string
}

var serviceTemplates = []struct{ name, typ, label, desc string }{
	{"S4H.100", "SAP_S4HANA", "SAP S/4HANA Cloud", "S/4HANA production"},
	{"S4H.200", "SAP_S4HANA", "SAP S/4HANA Cloud", "S/4HANA quality"},
	{"CPI.EU10", "SAP_CPI", "SAP Integration Suite", "Cloud Integration tenant"},
	{"SF.PROD", "SAP_SUCCESSFACTORS", "SAP SuccessFactors", "SuccessFactors production"},
	{"BTP.SUB1", "SAP_BTP_SUBACCOUNT", "SAP BTP Subaccount", "BTP subaccount (apps)"},
	{"ARIBA.NET", "SAP_ARIBA", "SAP Ariba", "Ariba Network"},
}

// newServices returns n deterministic services; their ids never change between runs.
func newServices(n int) []service {
	out := make([]service, n)
	for i := range out {
		t := serviceTemplates[i%len(serviceTemplates)]
		name := t.name
		if i >= len(serviceTemplates) {
			name = fmt.Sprintf("%s.%d", t.name, i/len(serviceTemplates)+1)
		}
		out[i] = service{
			ID: uuidFrom("service", fmt.Sprint(i)), Name: name, Type: t.typ, TypeLabel: t.label,
			Description: t.desc,
		}
	}
	return out
}

// hash is FNV-1a over the parts (strings, integers and times), separated so that
// ("ab","c") and ("a","bc") differ.
func hash(parts ...any) uint64 {
	h := fnv.New64a()
	var b [8]byte
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			h.Write([]byte(v))
		case uint64:
			binary.LittleEndian.PutUint64(b[:], v)
			h.Write(b[:])
		case int:
			binary.LittleEndian.PutUint64(b[:], uint64(v))
			h.Write(b[:])
		case int64:
			binary.LittleEndian.PutUint64(b[:], uint64(v))
			h.Write(b[:])
		case time.Time:
			binary.LittleEndian.PutUint64(b[:], uint64(v.UnixNano()))
			h.Write(b[:])
		case time.Duration:
			binary.LittleEndian.PutUint64(b[:], uint64(v))
			h.Write(b[:])
		default:
			panic(fmt.Sprintf("sim: hash of %T", p))
		}
		h.Write([]byte{0})
	}
	// FNV-1a mixes the last bytes poorly into the high bits; a final avalanche step
	// (splitmix64) makes every bit usable for modulo and shifts.
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// uuidFrom derives a stable version-4-shaped UUID from the parts.
func uuidFrom(parts ...string) string {
	args := make([]any, len(parts))
	for i, p := range parts {
		args[i] = p
	}
	a := hash(append(args, "hi")...)
	b := hash(append(args, "lo")...)
	a = a&^(0xf<<12) | 0x4<<12 // version 4
	b = b&^(0x3<<62) | 0x2<<62 // variant 10
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x",
		a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}
