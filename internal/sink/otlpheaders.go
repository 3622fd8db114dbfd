package sink

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// OTLP headers: the backend's credentials, parsed from either configured form, printed redacted.

// OTLPHeaders are the HTTP headers sent with every OTLP request, usually the backend's
// credentials. They print redacted (names only) in every format, in JSON and in slog.
type OTLPHeaders map[string]string

// String lists the header names with redacted values, in name order.
func (h OTLPHeaders) String() string {
	names := slices.Sorted(maps.Keys(h))
	for i, n := range names {
		names[i] = n + "=" + redacted
	}
	return "{" + strings.Join(names, ",") + "}"
}

// GoString is String: %#v must not reveal the values either.
func (h OTLPHeaders) GoString() string { return h.String() }

// Format prints String for every verb.
func (h OTLPHeaders) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, h.String()) }

// LogValue logs String.
func (h OTLPHeaders) LogValue() slog.Value { return slog.StringValue(h.String()) }

// MarshalJSON writes the header names with redacted values.
func (h OTLPHeaders) MarshalJSON() ([]byte, error) {
	m := make(map[string]string, len(h))
	for k := range h {
		m[k] = redacted
	}
	return json.Marshal(m)
}

// ParseOTLPHeaders reads headers in the OpenTelemetry OTEL_EXPORTER_OTLP_HEADERS format:
// comma-separated Key=Value pairs, keys and values URL-decoded and trimmed ("+" stays "+", so
// base64 values need no escaping; a "," or "%" in a value is written %2C or %25). Errors name
// the entry by position and key, never its value.
func ParseOTLPHeaders(s string) (OTLPHeaders, error) {
	h := OTLPHeaders{}
	var errs []error
	for i, entry := range strings.Split(s, ",") {
		if strings.TrimSpace(entry) == "" {
			continue
		}
		k, v, ok := strings.Cut(entry, "=")
		key, kerr := url.PathUnescape(strings.TrimSpace(k))
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("entry %d has no '=': write Key=Value", i+1))
			continue
		case kerr != nil:
			errs = append(errs, fmt.Errorf("entry %d: the key is not URL-encoded correctly", i+1))
			continue
		}
		val, verr := url.PathUnescape(strings.TrimSpace(v))
		if verr != nil {
			errs = append(errs, fmt.Errorf("header %q: the value is not URL-encoded correctly (write %% as %%25)", key))
			continue
		}
		if err := checkHeader(key, strings.TrimSpace(val)); err != nil {
			errs = append(errs, err)
			continue
		}
		h[http.CanonicalHeaderKey(key)] = strings.TrimSpace(val)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return h, nil
}

// ParseOTLPHeadersJSON reads headers from a JSON object of header names to string values (the
// form of the CALM_OTLP_HEADERS_SECRET secret). Errors never quote the content.
func ParseOTLPHeadersJSON(data []byte) (OTLPHeaders, error) {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil || m == nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("not a JSON object of header names to values (syntax error at byte %d)", se.Offset)
		}
		return nil, errors.New(`not a JSON object of header names to values, e.g. {"Authorization":"Bearer ..."}`)
	}
	h := OTLPHeaders{}
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v, ok := m[k].(string)
		if !ok {
			errs = append(errs, fmt.Errorf("header %q: the value must be a JSON string", k))
			continue
		}
		if err := checkHeader(k, v); err != nil {
			errs = append(errs, err)
			continue
		}
		h[http.CanonicalHeaderKey(k)] = v
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return h, nil
}

func checkHeader(key, value string) error {
	switch {
	case key == "":
		return errors.New("a header has an empty name")
	case !httpguts.ValidHeaderFieldName(key):
		return fmt.Errorf("header %q: not a valid HTTP header name", key)
	case !httpguts.ValidHeaderFieldValue(value):
		return fmt.Errorf("header %q: the value holds characters HTTP does not allow (control characters or line breaks)", key)
	}
	switch http.CanonicalHeaderKey(key) {
	case "Content-Type", "Content-Encoding", "Content-Length", "Host":
		return fmt.Errorf("header %q is set by the OTLP sink and cannot be configured", key)
	}
	return nil
}
