package calm

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
)

// shape is what a 2xx answer of a call must look like to be data (docs/cloud-alm-api.md,
// "Errors that look like data"): a body that is an error object, or JSON without the expected
// top-level field, is an API error, retried like a 5xx; the window it belongs to is held.
type shape int

const (
	shapeAny     shape = iota // not checked (analytics: decoded into their own types)
	shapeMetrics              // OTLP JSON with resourceMetrics; {} and null are no data
	shapeLogs                 // OTLP protobuf, or JSON with resourceLogs; {} and null are no data
	shapeList                 // a JSON array, or OData {"value":[…]}; null is no data
	shapeTraces               // OTLP protobuf, or JSON with resourceSpans; {} and null are no data
)

// key is the top-level field the shape's objects must have.
func (s shape) key() string {
	switch s {
	case shapeMetrics:
		return "resourceMetrics"
	case shapeLogs:
		return "resourceLogs"
	case shapeList:
		return "value"
	case shapeTraces:
		return "resourceSpans"
	}
	return ""
}

// notData says why a 2xx body is not data of the shape ("" when it is, or when only the
// decoder can tell: a body that is not JSON at all fails there).
func (s shape) notData(body []byte) string {
	if s == shapeAny {
		return ""
	}
	t := bytes.TrimSpace(body)
	if len(t) == 0 || string(t) == "null" || string(t) == "{}" || (s == shapeList && t[0] == '[') {
		return ""
	}
	if t[0] != '{' || bytes.Contains(t, []byte(`"`+s.key()+`"`)) {
		return "" // protobuf logs or traces, a list, or an object with the expected field
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(t, &obj) != nil {
		return ""
	}
	if _, ok := obj["error"]; ok {
		return "an error object: " + errorMessage(t)
	}
	if _, ok := obj["message"]; ok {
		return "an error object: " + errorMessage(t)
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return "JSON without the expected top-level field " + s.key() + " (it has " + strings.Join(keys, ", ") + ")"
}
