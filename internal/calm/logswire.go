package calm

import (
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/calm-collector/calm-collector/internal/wire"
)

// Field numbers promoteScopeLogs reads. ExportLogsServiceRequest and LogsData share the wire
// format: resource_logs is field 1 of both.
const (
	fieldResourceLogs        protowire.Number = 1    // ExportLogsServiceRequest.resource_logs
	fieldScopeLogs           protowire.Number = 2    // ResourceLogs.scope_logs
	fieldDeprecatedScopeLogs protowire.Number = 1000 // ResourceLogs.instrumentation_library_logs, gone since OTLP 0.19
)

// promoteScopeLogs does on the wire what plogotlp's ExportRequest does after decoding
// (otlp.MigrateLogs) and plog.ProtoUnmarshaler does not: in a ResourceLogs without
// scope_logs, the deprecated instrumentation_library_logs (field 1000) become its scope_logs;
// in a ResourceLogs with scope_logs they are dropped. plogotlp decodes the ones it drops, so
// they come back in dropped, a LogsData of one ResourceLogs, for the caller to decode too: a
// malformed one fails the page as it did. A body in which no ResourceLogs has field 1000
// (what every current sender writes) comes back as it is, without a copy; so does a body
// that is not valid protobuf, for the decoder to reject.
func promoteScopeLogs(body []byte) (promoted, dropped []byte) {
	if !hasDeprecatedScopeLogs(body) {
		return body, nil
	}
	var droppedRL []byte
	promoted = make([]byte, 0, len(body))
	eachField(body, func(num protowire.Number, typ protowire.Type, tag, value []byte) {
		if num != fieldResourceLogs || typ != protowire.BytesType {
			promoted = append(append(promoted, tag...), value...)
			return
		}
		rl, _ := protowire.ConsumeBytes(value)
		promoted = append(promoted, tag...)
		promoted = protowire.AppendBytes(promoted, promoteInResource(rl, &droppedRL))
	})
	if droppedRL != nil {
		dropped = protowire.AppendTag(nil, fieldResourceLogs, protowire.BytesType)
		dropped = protowire.AppendBytes(dropped, droppedRL)
	}
	return promoted, dropped
}

// promoteInResource rewrites one valid ResourceLogs message as promoteScopeLogs describes;
// it appends the deprecated scope logs it drops to *dropped as scope_logs fields.
func promoteInResource(rl []byte, dropped *[]byte) []byte {
	hasScope := false
	eachField(rl, func(num protowire.Number, _ protowire.Type, _, _ []byte) {
		hasScope = hasScope || num == fieldScopeLogs
	})
	out := make([]byte, 0, len(rl))
	eachField(rl, func(num protowire.Number, typ protowire.Type, tag, value []byte) {
		switch {
		case num != fieldDeprecatedScopeLogs || typ != protowire.BytesType:
			out = append(append(out, tag...), value...)
		case !hasScope:
			out = protowire.AppendTag(out, fieldScopeLogs, protowire.BytesType)
			out = append(out, value...) // the length and the ScopeLogs as they are
		default:
			*dropped = protowire.AppendTag(*dropped, fieldScopeLogs, protowire.BytesType)
			*dropped = append(*dropped, value...)
		}
	})
	return out
}

// hasDeprecatedScopeLogs reports whether body is valid protobuf down to its ResourceLogs and
// one of them holds field 1000.
func hasDeprecatedScopeLogs(body []byte) bool {
	found, valid := false, true
	valid = eachField(body, func(num protowire.Number, typ protowire.Type, _, value []byte) {
		if num != fieldResourceLogs || typ != protowire.BytesType {
			return
		}
		rl, _ := protowire.ConsumeBytes(value)
		valid = eachField(rl, func(num protowire.Number, _ protowire.Type, _, _ []byte) {
			found = found || num == fieldDeprecatedScopeLogs
		}) && valid
	}) && valid
	return found && valid
}

// eachField calls fn with every field of msg in order, read as pdata reads it (wire.Pdata): its
// number, its wire type, its encoded tag and its encoded value. It stops and reports false at a
// malformed field.
func eachField(msg []byte, fn func(num protowire.Number, typ protowire.Type, tag, value []byte)) bool {
	return wire.Fields(msg, wire.Pdata, func(num protowire.Number, typ protowire.Type, tag, value []byte) error {
		fn(num, typ, tag, value)
		return nil
	}) == nil
}
