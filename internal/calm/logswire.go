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
	eachField(body, func(f wire.Field) {
		if f.Num != fieldResourceLogs || f.Type != protowire.BytesType {
			promoted = append(promoted, f.Raw...)
			return
		}
		promoted = protowire.AppendTag(promoted, fieldResourceLogs, protowire.BytesType)
		promoted = protowire.AppendBytes(promoted, promoteInResource(f.Data, &droppedRL))
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
	eachField(rl, func(f wire.Field) {
		hasScope = hasScope || f.Num == fieldScopeLogs
	})
	out := make([]byte, 0, len(rl))
	eachField(rl, func(f wire.Field) {
		switch {
		case f.Num != fieldDeprecatedScopeLogs || f.Type != protowire.BytesType:
			out = append(out, f.Raw...)
		case !hasScope:
			out = protowire.AppendTag(out, fieldScopeLogs, protowire.BytesType)
			out = protowire.AppendBytes(out, f.Data)
		default:
			*dropped = protowire.AppendTag(*dropped, fieldScopeLogs, protowire.BytesType)
			*dropped = protowire.AppendBytes(*dropped, f.Data)
		}
	})
	return out
}

// hasDeprecatedScopeLogs reports whether body is valid protobuf down to its ResourceLogs and
// one of them holds field 1000.
func hasDeprecatedScopeLogs(body []byte) bool {
	found, valid := false, true
	valid = eachField(body, func(f wire.Field) {
		if f.Num != fieldResourceLogs || f.Type != protowire.BytesType {
			return
		}
		valid = eachField(f.Data, func(f wire.Field) {
			found = found || f.Num == fieldDeprecatedScopeLogs
		}) && valid
	}) && valid
	return found && valid
}

// eachField calls fn with every field of msg in order, read as pdata reads it (wire.Pdata). It
// stops and reports false at a malformed field.
func eachField(msg []byte, fn func(wire.Field)) bool {
	return wire.Pdata.Fields(msg, func(f wire.Field) error {
		fn(f)
		return nil
	}) == nil
}
