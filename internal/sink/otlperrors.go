package sink

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// What an OTLP backend answered when it did not accept a request.

const (
	signalMetrics = "metrics"
	signalLogs    = "logs"
	signalTraces  = "traces"
)

// OTLPError is a request the backend refused (after retries where the status allows them) or
// that never got an answer.
type OTLPError struct {
	Signal     string // "metrics", "logs" or "traces"
	URL        string
	StatusCode int    // 0 when there was no answer
	Message    string // the backend's message (bounded), or where a redirect pointed
	// Attempts is how many requests were made (set once retries are over).
	Attempts int
	// Err is the transport error when there was no answer.
	Err error
}

func (e *OTLPError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s POST %s: ", e.Signal, e.URL)
	if e.StatusCode == 0 {
		fmt.Fprintf(&b, "%v", e.Err)
	} else {
		fmt.Fprintf(&b, "HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
		if e.Message != "" {
			b.WriteString(": " + e.Message)
		}
	}
	return b.String()
}

func (e *OTLPError) Unwrap() error { return e.Err }

// Temporary reports whether the failure may go away by itself (throttling, an unavailable
// backend, no answer) as opposed to a request the backend will always refuse.
func (e *OTLPError) Temporary() bool { return e.StatusCode == 0 || retryableStatus(e.StatusCode) }

// OTLPPartialError is a request the backend accepted only in part (OTLP partial_success).
type OTLPPartialError struct {
	Signal   string // "metrics", "logs" or "traces"
	URL      string
	Sent     int   // data points, log records or spans in the request
	Rejected int64 // rejected_data_points, rejected_log_records or rejected_spans
	Message  string
}

func (e *OTLPPartialError) Error() string {
	what := "data points"
	switch e.Signal {
	case signalLogs:
		what = "log records"
	case signalTraces:
		what = "spans"
	}
	msg := ""
	if e.Message != "" {
		msg = ": " + e.Message
	}
	return fmt.Sprintf("%s POST %s: partial success: the backend rejected %d of %d %s%s", e.Signal, e.URL, e.Rejected, e.Sent, what, msg)
}

func retryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// errorMessage extracts the backend's message from an error answer: a google.rpc.Status in
// protobuf (what OTLP/HTTP prescribes), a JSON object with "message" or "error", else the text.
func errorMessage(ctype string, data []byte) string {
	switch ctype {
	case "application/x-protobuf", "application/protobuf":
		if msg, ok := rpcStatusMessage(data); ok && msg != "" {
			return oneLine(msg)
		}
	case "application/json":
		var v struct {
			Message string          `json:"message"`
			Error   json.RawMessage `json:"error"`
		}
		if json.Unmarshal(data, &v) == nil {
			if v.Message != "" {
				return oneLine(v.Message)
			}
			var s string
			if json.Unmarshal(v.Error, &s) == nil && s != "" {
				return oneLine(s)
			}
			var o struct {
				Message string `json:"message"`
			}
			if json.Unmarshal(v.Error, &o) == nil && o.Message != "" {
				return oneLine(o.Message)
			}
		}
	}
	if !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
		return ""
	}
	if ctype == "text/html" || bytes.HasPrefix(bytes.TrimSpace(data), []byte("<")) {
		return "the answer is an HTML page, not an OTLP response: check the host and base path of the sink spec"
	}
	return oneLine(string(data))
}

// oneLine collapses white space and cuts s to maxOTLPMessage bytes.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxOTLPMessage {
		cut := maxOTLPMessage
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
