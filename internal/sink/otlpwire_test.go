package sink

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/calm-collector/calm-collector/internal/wire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// The request bodies the sink writes with pmetric/plog's ProtoMarshaler are byte for byte
// the export requests pmetricotlp/plogotlp write.
func TestOTLPRequestBodiesMatchPdataOTLP(t *testing.T) {
	b := otlpBatch()
	m := newOTLPMapper(b, time.Unix(1_800_000_000, 0))
	md, err := m.metrics(recordsOf(b)[:4])
	if err != nil {
		t.Fatal(err)
	}
	got, _ := (&pmetric.ProtoMarshaler{}).MarshalMetrics(md)
	want, _ := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
	if md.DataPointCount() == 0 || !bytes.Equal(got, want) {
		t.Errorf("metrics body (%d points) differs from pmetricotlp's", md.DataPointCount())
	}
	ld := m.logs(recordsOf(b)[4:])
	got, _ = (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	want, _ = plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	if ld.LogRecordCount() == 0 || !bytes.Equal(got, want) {
		t.Errorf("logs body (%d records) differs from plogotlp's", ld.LogRecordCount())
	}
}

// pdataResponse reads data with pdata's export response of signal, as the sink did before.
func pdataResponse(signal, ctype string, data []byte) (exportResponse, error) {
	json := ctype == "application/json"
	if signal == signalMetrics {
		r := pmetricotlp.NewExportResponse()
		err := r.UnmarshalProto(data)
		if json {
			err = r.UnmarshalJSON(data)
		}
		return exportResponse{r.PartialSuccess().RejectedDataPoints(), r.PartialSuccess().ErrorMessage()}, err
	}
	r := plogotlp.NewExportResponse()
	err := r.UnmarshalProto(data)
	if json {
		err = r.UnmarshalJSON(data)
	}
	return exportResponse{r.PartialSuccess().RejectedLogRecords(), r.PartialSuccess().ErrorMessage()}, err
}

// outcome is what the sink does with a 2xx answer: accept it silently (not an export
// response, or nothing to report), or act on the rejected count and message.
func outcome(r exportResponse, err error) string {
	if err != nil || (r.Rejected <= 0 && r.ErrorMessage == "") {
		return "accepted"
	}
	return fmt.Sprintf("rejected %d, message %q", max(r.Rejected, 0), r.ErrorMessage)
}

func TestParseExportResponse(t *testing.T) {
	mresp := pmetricotlp.NewExportResponse()
	mresp.PartialSuccess().SetRejectedDataPoints(2)
	mresp.PartialSuccess().SetErrorMessage("2 points too old")
	mproto, _ := mresp.MarshalProto()
	mjson, _ := mresp.MarshalJSON()
	lresp := plogotlp.NewExportResponse()
	lresp.PartialSuccess().SetRejectedLogRecords(1)
	lresp.PartialSuccess().SetErrorMessage("attribute too long")
	lproto, _ := lresp.MarshalProto()
	ljson, _ := lresp.MarshalJSON()
	// two partial_success fields: merged, the later values win
	merged := append(append([]byte{}, mproto...), 0x0a, 0x02, 0x08, 0x05)
	tests := []struct {
		signal, ctype, body string
		want                exportResponse
		wantErr             bool
	}{
		{signalMetrics, "application/x-protobuf", string(mproto), exportResponse{2, "2 points too old"}, false},
		{signalMetrics, "application/json", string(mjson), exportResponse{2, "2 points too old"}, false},
		{signalLogs, "application/x-protobuf", string(lproto), exportResponse{1, "attribute too long"}, false},
		{signalLogs, "application/json", string(ljson), exportResponse{1, "attribute too long"}, false},
		{signalMetrics, "application/x-protobuf", string(merged), exportResponse{5, "2 points too old"}, false},
		{signalMetrics, "application/x-protobuf", "", exportResponse{}, false},
		{signalMetrics, "application/x-protobuf", "\x0a\x00\x18\x07", exportResponse{}, false}, // unknown field
		{signalMetrics, "application/x-protobuf", "\x08\x01", exportResponse{}, true},          // partial_success as a varint
		{signalMetrics, "application/x-protobuf", "\x0a\x02\x12\x05", exportResponse{}, true},  // message longer than the field
		{signalMetrics, "", "<html>bad gateway</html>", exportResponse{}, true},                // not protobuf
		{signalMetrics, "application/json", `{"partial_success":{"rejected_data_points":"3","error_message":"x"}}`, exportResponse{3, "x"}, false},
		{signalLogs, "application/json", `{"partialSuccess":{"rejectedLogRecords":4}}`, exportResponse{4, ""}, false},
		{signalLogs, "application/json", `{"partialSuccess":{"rejectedDataPoints":4}}`, exportResponse{}, false}, // the other signal's name
		{signalLogs, "application/json", `{}`, exportResponse{}, false},
		{signalLogs, "application/json", `{"partialSuccess":{"rejectedLogRecords":"many"}}`, exportResponse{}, true},
		{signalLogs, "application/json", `ok`, exportResponse{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.signal+" "+tt.ctype+" "+fmt.Sprintf("%q", tt.body), func(t *testing.T) {
			got, err := parseExportResponse(tt.signal, tt.ctype, []byte(tt.body))
			if (err != nil) != tt.wantErr || (err == nil && got != tt.want) {
				t.Errorf("= %+v, %v; want %+v, error %v", got, err, tt.want, tt.wantErr)
			}
			ref, refErr := pdataResponse(tt.signal, tt.ctype, []byte(tt.body))
			if outcome(got, err) != outcome(ref, refErr) {
				t.Errorf("outcome %s, with pdata %s", outcome(got, err), outcome(ref, refErr))
			}
		})
	}
}

func FuzzParseExportResponseProtoMatchesPdata(f *testing.F) {
	r := pmetricotlp.NewExportResponse()
	r.PartialSuccess().SetRejectedDataPoints(7)
	r.PartialSuccess().SetErrorMessage("too old")
	b, _ := r.MarshalProto()
	f.Add(b)
	f.Add([]byte{0x0a, 0x00, 0x18, 0x07})
	f.Add(protowire.AppendTag(nil, 3, protowire.StartGroupType))
	f.Fuzz(func(t *testing.T, data []byte) {
		if hasGroup(data) {
			// pdata skips groups its own way (a group closing the message is an error to it, a
			// group closed by another field number is not); OTLP, being proto3, has none.
			t.Skip()
		}
		for _, signal := range []string{signalMetrics, signalLogs} {
			got, err := parseExportResponse(signal, "application/x-protobuf", data)
			ref, refErr := pdataResponse(signal, "application/x-protobuf", data)
			if outcome(got, err) != outcome(ref, refErr) {
				t.Fatalf("%s: outcome %s (%v), with pdata %s (%v)", signal, outcome(got, err), err, outcome(ref, refErr), refErr)
			}
		}
	})
}

// hasGroup reports whether an export response holds a group field at its top level or in a
// partial_success, also one that is not closed (the message then does not parse, and the
// field is never handed to a callback: the tags are read one by one).
func hasGroup(data []byte) bool {
	found := false
	eachTag(data, func(num protowire.Number, typ protowire.Type, value []byte) {
		found = found || typ == protowire.StartGroupType
		if num == 1 && typ == protowire.BytesType {
			ps, _ := protowire.ConsumeBytes(value)
			eachTag(ps, func(_ protowire.Number, typ protowire.Type, _ []byte) {
				found = found || typ == protowire.StartGroupType
			})
		}
	})
	return found
}

// eachTag calls fn with every field of msg up to the first it cannot read, that one included
// (with what follows its tag as the value).
func eachTag(msg []byte, fn func(num protowire.Number, typ protowire.Type, value []byte)) {
	for b := msg; len(b) > 0; {
		num, typ, n := wire.Pdata.Tag(b)
		if n < 0 {
			return
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			fn(num, typ, b[n:])
			return
		}
		fn(num, typ, b[n:n+m])
		b = b[n+m:]
	}
}

// pbStatus is the reference reading of a google.rpc.Status: the generated type.
func pbStatus(data []byte) (string, bool) {
	var st rpcstatus.Status
	if err := proto.Unmarshal(data, &st); err != nil {
		return "", false
	}
	return st.GetMessage(), true
}

func TestRPCStatusMessage(t *testing.T) {
	detail, _ := anypb.New(&rpcstatus.Status{Message: "inner"})
	full, _ := proto.Marshal(&rpcstatus.Status{Code: 3, Message: "metric name is invalid", Details: []*anypb.Any{detail}})
	tests := []struct {
		name string
		data []byte
		want string
		ok   bool
	}{
		{"full status", full, "metric name is invalid", true},
		{"empty", nil, "", true},
		{"message twice: the last wins", []byte("\x12\x01a\x12\x01b"), "b", true},
		{"message as varint: unknown field", []byte("\x10\x05"), "", true},
		{"invalid UTF-8", []byte("\x12\x01\xff"), "", false},
		{"invalid UTF-8 type_url", []byte("\x1a\x03\x0a\x01\xff"), "", false},
		{"truncated", []byte("\x12\x05ab"), "", false},
		{"HTML", []byte("<html>"), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := rpcStatusMessage(tt.data)
			if got != tt.want || ok != tt.ok {
				t.Errorf("= %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
			if rg, rok := pbStatus(tt.data); rg != got || rok != ok {
				t.Errorf("the protobuf runtime reads %q, %v", rg, rok)
			}
		})
	}
}

func FuzzRPCStatusMessageMatchesProtobuf(f *testing.F) {
	detail, _ := anypb.New(&rpcstatus.Status{Message: "inner"})
	full, _ := proto.Marshal(&rpcstatus.Status{Code: 3, Message: "metric name is invalid", Details: []*anypb.Any{detail}})
	f.Add(full)
	f.Add([]byte("\x12\x01\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := rpcStatusMessage(data)
		want, wantOK := pbStatus(data)
		if got != want || ok != wantOK {
			t.Fatalf("rpcStatusMessage = %q, %v; the protobuf runtime %q, %v", got, ok, want, wantOK)
		}
	})
}
