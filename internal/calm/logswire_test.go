package calm

import (
	"bytes"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/calm-collector/calm-collector/internal/wire"
)

// deprecatedResource is a ResourceLogs whose scope logs sit in the deprecated field 1000
// (instrumentation_library_logs), holding one record with body text, after the fields in
// extra (already encoded).
func deprecatedResource(t testing.TB, text string, extra []byte) []byte {
	t.Helper()
	ld := plog.NewLogs()
	sl := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
	sl.Scope().SetName("old-sdk")
	sl.LogRecords().AppendEmpty().Body().SetStr(text)
	// field 1 of the request is the ResourceLogs; its field 2 the ScopeLogs
	req := logsProto(t, ld)
	rl, n := protowire.ConsumeBytes(req[1:])
	if n < 0 || req[0] != 0x0a || rl[0] != 0x12 {
		t.Fatalf("unexpected encoding % x", req)
	}
	scope, _ := protowire.ConsumeBytes(rl[1:])
	out := append([]byte{}, extra...)
	out = protowire.AppendTag(out, fieldDeprecatedScopeLogs, protowire.BytesType)
	return protowire.AppendBytes(out, scope)
}

// logsRequest wraps ResourceLogs messages into an ExportLogsServiceRequest.
func logsRequest(resources ...[]byte) []byte {
	var out []byte
	for _, rl := range resources {
		out = protowire.AppendTag(out, fieldResourceLogs, protowire.BytesType)
		out = protowire.AppendBytes(out, rl)
	}
	return out
}

// referenceLogs decodes body the way the code did before it stopped importing plogotlp.
func referenceLogs(body []byte) (plog.Logs, error) {
	req := plogotlp.NewExportRequest()
	if err := req.UnmarshalProto(body); err != nil {
		return plog.Logs{}, err
	}
	return req.Logs(), nil
}

// assertSameAsPlogotlp checks that decodeLogs reads a protobuf body exactly as plogotlp does:
// both fail, or both give logs that encode to the same bytes.
func assertSameAsPlogotlp(t *testing.T, body []byte) {
	t.Helper()
	want, wantErr := referenceLogs(body)
	got, err := decodeLogs("application/x-protobuf", body)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("decodeLogs error %v, plogotlp error %v", err, wantErr)
	}
	if err != nil {
		return
	}
	var m plog.ProtoMarshaler
	g, _ := m.MarshalLogs(got)
	w, _ := m.MarshalLogs(want)
	if !bytes.Equal(g, w) {
		t.Fatalf("decodeLogs gives logs encoding to\n% x\nplogotlp\n% x", g, w)
	}
}

func TestDecodeLogsMatchesPlogotlp(t *testing.T) {
	current := logsProto(t, logsDoc(0, 3))
	currentRL, _ := protowire.ConsumeBytes(current[1:])
	resourceAttr := []byte{0x0a, 0x00} // field 1: an empty Resource
	tests := []struct {
		name     string
		body     []byte
		promoted int // log records the answer must hold
	}{
		{"current sender", current, 3},
		{"deprecated scope logs only", logsRequest(deprecatedResource(t, "old", resourceAttr)), 1},
		{"scope logs and deprecated ones: deprecated dropped", logsRequest(append(append([]byte{}, currentRL...), deprecatedResource(t, "old", nil)...)), 3},
		{"resources of both kinds", logsRequest(currentRL, deprecatedResource(t, "old", nil), currentRL), 7},
		{"two deprecated scope logs in one resource", logsRequest(append(deprecatedResource(t, "a", nil), deprecatedResource(t, "b", nil)...)), 2},
		{"unknown top-level field kept", append(logsRequest(deprecatedResource(t, "old", nil)), 0x10, 0x01), 1},
		{"malformed", []byte{0x0a, 0xff, 0xff}, -1},
		{"malformed resource", logsRequest([]byte{0x12, 0x05, 0x00}), -1},
		{"malformed deprecated scope logs beside scope logs", logsRequest([]byte{0x12, 0x00, 0xc2, 0x3e, 0x02, 0x12, 0x05}), -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertSameAsPlogotlp(t, tt.body)
			got, err := decodeLogs("application/x-protobuf", tt.body)
			if tt.promoted < 0 {
				if err == nil {
					t.Fatal("no error for a malformed body")
				}
				return
			}
			if err != nil || got.LogRecordCount() != tt.promoted {
				t.Fatalf("%d log records, err %v; want %d", got.LogRecordCount(), err, tt.promoted)
			}
		})
	}
}

func TestPromoteScopeLogsKeepsCurrentBodies(t *testing.T) {
	body := logsProto(t, logsDoc(0, 3))
	if got, dropped := promoteScopeLogs(body); &got[0] != &body[0] || len(got) != len(body) || dropped != nil {
		t.Error("a body without deprecated scope logs was copied")
	}
}

func TestDecodeLogsJSONMatchesPlogotlp(t *testing.T) {
	body, err := plogotlp.NewExportRequestFromLogs(logsDoc(0, 4)).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeLogs("application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	req := plogotlp.NewExportRequest()
	if err := req.UnmarshalJSON(body); err != nil {
		t.Fatal(err)
	}
	var m plog.ProtoMarshaler
	g, _ := m.MarshalLogs(got)
	w, _ := m.MarshalLogs(req.Logs())
	if !bytes.Equal(g, w) {
		t.Errorf("JSON logs decode differently from plogotlp")
	}
}

func FuzzDecodeLogsMatchesPlogotlp(f *testing.F) {
	f.Add(logsProto(f, logsDoc(0, 2)))
	f.Add(logsRequest(deprecatedResource(f, "old", nil)))
	f.Add(logsRequest(deprecatedResource(f, "old", []byte{0x12, 0x00})))
	f.Add([]byte{0x0a, 0x03, 0xc2, 0x3e, 0x00})
	f.Add([]byte("C00\n\x1b\xc2>\x18000000000000000000000000")) // a group: skipped, see hasGroup
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(bytes.TrimSpace(body)) == 0 {
			return // decodeLogs answers no logs without decoding
		}
		if hasGroup(body, 2) {
			return // groups: no OTLP sender writes them, and the two decoders skip them differently
		}
		assertSameAsPlogotlp(t, body)
	})
}

// hasGroup reports whether msg, or a length-delimited field inside it down to depth levels,
// holds a field of the deprecated group wire types (or does not parse up to one).
func hasGroup(msg []byte, depth int) bool {
	for b := msg; len(b) > 0; {
		num, typ, n := wire.Pdata.Tag(b) // as pdata reads tags: a field number above 2^29-1 is a field
		if n < 0 {
			return false
		}
		if typ == protowire.StartGroupType || typ == protowire.EndGroupType {
			return true
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return false
		}
		if typ == protowire.BytesType && depth > 0 {
			if v, k := protowire.ConsumeBytes(b[n:]); k >= 0 && hasGroup(v, depth-1) {
				return true
			}
		}
		b = b[n+m:]
	}
	return false
}
