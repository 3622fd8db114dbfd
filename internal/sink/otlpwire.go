package sink

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/calm-collector/calm-collector/internal/wire"
)

// The OTLP export responses and google.rpc.Status are read here with protowire rather than
// with pmetricotlp/plogotlp (whose packages register the gRPC services and link all of gRPC
// into the Lambdas) or the generated google.rpc.Status (which links the protobuf runtime).
// Each reader mirrors the decoder it replaces; the fuzz tests in otlpwire_test.go hold them
// to it.

// exportResponse is what matters of an Export{Metrics,Logs}ServiceResponse: its partial
// success. Both signals share the wire format:
//
//	message Export…ServiceResponse { Export…PartialSuccess partial_success = 1; }
//	message Export…PartialSuccess  { int64 rejected_data_points|rejected_log_records = 1; string error_message = 2; }
type exportResponse struct {
	Rejected     int64
	ErrorMessage string
}

// rejectedJSONNames are the JSON names of field 1 of the partial success, per signal, as
// pdata reads them (lowerCamelCase and the proto name).
var rejectedJSONNames = map[string][2]string{
	signalMetrics: {"rejectedDataPoints", "rejected_data_points"},
	signalLogs:    {"rejectedLogRecords", "rejected_log_records"},
	signalTraces:  {"rejectedSpans", "rejected_spans"},
}

// parseExportResponse reads an OTLP/HTTP export response of signal: JSON when ctype is
// application/json, protobuf otherwise.
func parseExportResponse(signal, ctype string, data []byte) (exportResponse, error) {
	if ctype == "application/json" {
		return parseExportResponseJSON(signal, data)
	}
	return parseExportResponseProto(data)
}

// parseExportResponseProto reads a protobuf export response the way pdata does: a field of
// the wrong wire type is an error, unknown fields are skipped, a repeated partial_success
// is merged into the first. (Unknown groups, which proto3 and so OTLP never write, are
// skipped as protowire does; pdata's own skipping of them is looser in places.)
func parseExportResponseProto(data []byte) (exportResponse, error) {
	var r exportResponse
	err := wire.Pdata.Fields(data, func(ps wire.Field) error {
		if ps.Num != 1 {
			return nil
		}
		if ps.Type != protowire.BytesType {
			return fmt.Errorf("partial_success has wire type %d", ps.Type)
		}
		return wire.Pdata.Fields(ps.Data, func(f wire.Field) error {
			switch f.Num {
			case 1:
				if f.Type != protowire.VarintType {
					return fmt.Errorf("rejected count has wire type %d", f.Type)
				}
				r.Rejected = int64(f.Varint)
			case 2:
				if f.Type != protowire.BytesType {
					return fmt.Errorf("error_message has wire type %d", f.Type)
				}
				r.ErrorMessage = string(f.Data)
			}
			return nil
		})
	})
	return r, err
}

// parseExportResponseJSON reads an OTLP/HTTP JSON export response: field names in
// lowerCamelCase or as in the proto, the rejected count as a number or a decimal string.
func parseExportResponseJSON(signal string, data []byte) (exportResponse, error) {
	var r exportResponse
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return r, err
	}
	for _, key := range []string{"partialSuccess", "partial_success"} {
		raw, ok := top[key]
		if !ok {
			continue
		}
		var ps map[string]json.RawMessage
		if err := json.Unmarshal(raw, &ps); err != nil {
			return r, fmt.Errorf("%s: %w", key, err)
		}
		for _, name := range rejectedJSONNames[signal] {
			if v, ok := ps[name]; ok {
				n, err := jsonInt64(v)
				if err != nil {
					return r, fmt.Errorf("%s.%s: %w", key, name, err)
				}
				r.Rejected = n
			}
		}
		for _, name := range []string{"errorMessage", "error_message"} {
			if v, ok := ps[name]; ok {
				if err := json.Unmarshal(v, &r.ErrorMessage); err != nil {
					return r, fmt.Errorf("%s.%s: %w", key, name, err)
				}
			}
		}
	}
	return r, nil
}

// jsonInt64 reads an int64 written as a JSON number or, as proto3 JSON writes 64-bit
// integers, as a decimal string.
func jsonInt64(raw json.RawMessage) (int64, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strconv.ParseInt(s, 10, 64)
	}
	var n int64
	if string(raw) == "null" {
		return 0, errors.New("null is not a count")
	}
	err := json.Unmarshal(raw, &n)
	return n, err
}

// rpcStatusMessage reads the message (field 2) of a protobuf google.rpc.Status, what an
// OTLP/HTTP backend answers with an error status. It reports false when data is not a valid
// Status, judged as the protobuf runtime judges it: a string field must be UTF-8 (message, and
// type_url of a details Any); a field of an unexpected wire type is an unknown field.
func rpcStatusMessage(data []byte) (string, bool) {
	var msg string
	err := wire.Runtime.Fields(data, func(f wire.Field) error {
		if f.Type != protowire.BytesType {
			return nil // code (1) is a varint; anything else is unknown
		}
		v := f.Data
		switch f.Num {
		case 2: // message
			if !utf8.Valid(v) {
				return errors.New("message is not UTF-8")
			}
			msg = string(v)
		case 3: // details: google.protobuf.Any{type_url = 1, value = 2}
			return wire.Runtime.Fields(v, func(f wire.Field) error {
				if f.Num == 1 && f.Type == protowire.BytesType {
					if !utf8.Valid(f.Data) {
						return errors.New("details type_url is not UTF-8")
					}
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return "", false
	}
	return msg, true
}
