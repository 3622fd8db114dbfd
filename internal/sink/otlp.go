package sink

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"golang.org/x/net/http/httpguts"

	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/sink/spec"
	"github.com/calm-collector/calm-collector/internal/retry"
)

// Environment variables read by the OTLP sink when it is opened through Open.
const (
	// EnvOTLPHeaders holds headers in the OTEL_EXPORTER_OTLP_HEADERS format: "Key=Value,Key2=Value2",
	// values URL-decoded.
	EnvOTLPHeaders = "CALM_OTLP_HEADERS"
	// EnvOTLPHeadersSecret names a Secrets Manager secret holding a JSON object of headers; its
	// headers override those of EnvOTLPHeaders with the same name.
	EnvOTLPHeadersSecret = "CALM_OTLP_HEADERS_SECRET"
	// EnvOTLPAllowPartial "true" accepts a batch the backend answered with a partial success
	// (logging what was rejected) instead of failing it; see OTLPOptions.AllowPartial.
	EnvOTLPAllowPartial = "CALM_OTLP_ALLOW_PARTIAL"
)

// OTLP defaults.
const (
	defaultOTLPRetries    = 5
	defaultOTLPBackoff    = 500 * time.Millisecond
	maxOTLPBackoff        = 30 * time.Second
	defaultOTLPPerRequest = 2000
	defaultOTLPTimeout    = 30 * time.Second
	// maxOTLPErrorBody bounds what is read of a backend's answer (error text or export response).
	maxOTLPErrorBody = 64 << 10
	// maxOTLPMessage bounds the backend message quoted in an error.
	maxOTLPMessage = 512
	otlpUserAgent  = "calm-collector"
	redacted       = "[REDACTED]"
)

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

// OTLPOptions configure an OTLP sink.
type OTLPOptions struct {
	// Headers are sent with every request (credentials: never logged, never in an error).
	Headers OTLPHeaders
	// HTTPClient sends the requests; nil: a client with a 30 s timeout whose transport honours
	// HTTPS_PROXY/NO_PROXY (http.ProxyFromEnvironment). Redirects are never followed: a POST
	// with credentials is not replayed elsewhere; a 3xx answer is an error naming the new place.
	HTTPClient *http.Client
	// MaxRetries is how often a request is retried after a transport error or HTTP 429, 502, 503
	// or 504; 0 means 5, a negative value none. Retries also stop at the context's deadline.
	MaxRetries int
	// Backoff is the first retry's wait, doubled each retry (at most 30 s) and jittered; 0 means
	// 500 ms. A Retry-After answer (seconds or HTTP date) replaces it.
	Backoff time.Duration
	// MaxPerRequest bounds the data points or log records of one request; 0 means 2000.
	MaxPerRequest int
	// AllowPartial accepts a batch that the backend answered with a partial success (some points
	// rejected), logging the rejection. By default such a batch fails (see OTLP.Write).
	AllowPartial bool
	// Logger receives retries (warn) and deliveries (debug); slog.Default() when nil.
	Logger *slog.Logger
}

// OTLPOptionsFromEnv builds options from the environment: headers from EnvOTLPHeaders and from the
// Secrets Manager secret EnvOTLPHeadersSecret (read with awsCfg; its headers win), and
// EnvOTLPAllowPartial. getenv is os.Getenv outside tests.
func OTLPOptionsFromEnv(ctx context.Context, getenv func(string) string, awsCfg *aws.Config) (OTLPOptions, error) {
	var o OTLPOptions
	var errs []error
	if s := getenv(EnvOTLPHeaders); strings.TrimSpace(s) != "" {
		h, err := ParseOTLPHeaders(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvOTLPHeaders, err))
		}
		o.Headers = h
	}
	if id := strings.TrimSpace(getenv(EnvOTLPHeadersSecret)); id != "" {
		h, err := headersFromSecret(ctx, id, awsCfg)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvOTLPHeadersSecret, err))
		}
		if o.Headers == nil {
			o.Headers = OTLPHeaders{}
		}
		maps.Copy(o.Headers, h)
	}
	switch v := strings.TrimSpace(getenv(EnvOTLPAllowPartial)); v {
	case "", "false":
	case "true":
		o.AllowPartial = true
	default:
		errs = append(errs, fmt.Errorf("%s: %q is neither true nor false", EnvOTLPAllowPartial, v))
	}
	if err := errors.Join(errs...); err != nil {
		return OTLPOptions{}, err
	}
	return o, nil
}

func headersFromSecret(ctx context.Context, id string, awsCfg *aws.Config) (OTLPHeaders, error) {
	if awsCfg == nil {
		return nil, fmt.Errorf("secret %q: needs an AWS configuration, and the caller gave none", id)
	}
	out, err := secretsmanager.NewFromConfig(*awsCfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return nil, fmt.Errorf("read secret %q: %w", id, err)
	}
	if out.SecretString == nil {
		return nil, fmt.Errorf("secret %q has no string value: store a JSON object of headers", id)
	}
	h, err := ParseOTLPHeadersJSON([]byte(*out.SecretString))
	if err != nil {
		return nil, fmt.Errorf("secret %q: %w", id, err)
	}
	return h, nil
}

// openOTLP is Open's entry for "otlp+..." specs: options from the environment.
func openOTLP(ctx context.Context, sp spec.Spec, deps Deps) (Sink, error) {
	o, err := OTLPOptionsFromEnv(ctx, os.Getenv, deps.AWS)
	if err != nil {
		return nil, fmt.Errorf("sink %q: %w", spec.Redact(sp.Raw), err)
	}
	o.Logger = deps.Logger
	return newOTLP(sp.Base, o), nil
}

// OTLP sends records to an OpenTelemetry backend over OTLP/HTTP: metrics to {base}/v1/metrics,
// status events and logs to {base}/v1/logs, as gzip-compressed protobuf. The mapping is
// described in otlpmap.go. It is safe for concurrent use.
type OTLP struct {
	name       string
	metricsURL string
	logsURL    string
	opts       OTLPOptions
	client     *http.Client
	ownClient  bool
	logger     *slog.Logger
	retry      retry.Policy
}

// NewOTLP returns the sink a spec "otlp+https://host[:port][/base]" names ("otlp+http://" only
// for loopback hosts, for tests and local collectors).
func NewOTLP(raw string, opts OTLPOptions) (*OTLP, error) {
	sp, err := spec.Parse(raw)
	if err == nil && sp.Kind != spec.OTLP {
		err = fmt.Errorf("sink %q: not an OTLP spec; write otlp+https://HOST[:PORT][/BASE-PATH]", sp.Raw)
	}
	if err != nil {
		return nil, err
	}
	return newOTLP(sp.Base, opts), nil
}

// newOTLP is NewOTLP for a base URL spec.Parse has checked.
func newOTLP(base string, opts OTLPOptions) *OTLP {
	s := &OTLP{
		name:       "otlp+" + base,
		metricsURL: base + "/v1/metrics",
		logsURL:    base + "/v1/logs",
		opts:       opts,
		logger:     opts.Logger,
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	switch {
	case s.opts.MaxRetries == 0:
		s.opts.MaxRetries = defaultOTLPRetries
	case s.opts.MaxRetries < 0:
		s.opts.MaxRetries = 0
	}
	if s.opts.Backoff <= 0 {
		s.opts.Backoff = defaultOTLPBackoff
	}
	s.retry = retry.Policy{MaxRetries: s.opts.MaxRetries, Backoff: s.opts.Backoff, MaxBackoff: maxOTLPBackoff}
	if s.opts.MaxPerRequest <= 0 {
		s.opts.MaxPerRequest = defaultOTLPPerRequest
	}
	if opts.HTTPClient != nil {
		c := *opts.HTTPClient
		s.client = &c
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = http.ProxyFromEnvironment
		s.client = &http.Client{Transport: t, Timeout: defaultOTLPTimeout}
		s.ownClient = true
	}
	s.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return s
}

// Name returns "otlp+" and the base URL, e.g. "otlp+https://collector.example.com:4318".
func (s *OTLP) Name() string { return s.name }

// Close releases idle connections of the sink's own HTTP client.
func (s *OTLP) Close(context.Context) error {
	if s.ownClient {
		s.client.CloseIdleConnections()
	}
	return nil
}

// Write sends the batch's metric records to {base}/v1/metrics and its events and logs to
// {base}/v1/logs, at most MaxPerRequest items per request, and returns nil only when the backend
// accepted every request. It stops at the first request that fails.
//
// A partial success (the backend accepted the request but rejected some points or log records)
// is returned as a *OTLPPartialError unless AllowPartial is set: the window's checkpoint then does
// not move and the whole window is sent again on the next run. That is a choice for not losing
// data silently over not sending twice: a backend that does not deduplicate sees the accepted
// part twice. When the backend keeps rejecting the same points, fix the cause it names or set
// AllowPartial (CALM_OTLP_ALLOW_PARTIAL=true) to accept and log such answers.
func (s *OTLP) Write(ctx context.Context, b Batch) error {
	if len(b.Records) == 0 {
		return nil
	}
	m := newOTLPMapper(b, time.Now())
	var metrics, logs []record.Record
	for i := range b.Records {
		switch b.Records[i].Kind {
		case record.KindMetric:
			metrics = append(metrics, b.Records[i])
		case record.KindEvent, record.KindLog:
			logs = append(logs, b.Records[i])
		}
	}
	fail := func(err error) error {
		return fmt.Errorf("%s: write %s/%s window %s: %w", s.name, b.Tenant, b.Monitor, windowText(b), err)
	}
	for chunk := range slices.Chunk(metrics, s.opts.MaxPerRequest) {
		md, err := m.metrics(chunk)
		if err != nil {
			return fail(err)
		}
		// MetricsData has the wire format of ExportMetricsServiceRequest (and LogsData that of
		// ExportLogsServiceRequest); pmetricotlp and plogotlp would link all of gRPC.
		body, err := (&pmetric.ProtoMarshaler{}).MarshalMetrics(md)
		if err != nil {
			return fail(fmt.Errorf("encode metrics: %w", err))
		}
		if err := s.send(ctx, signalMetrics, s.metricsURL, body, len(chunk)); err != nil {
			return fail(err)
		}
	}
	for chunk := range slices.Chunk(logs, s.opts.MaxPerRequest) {
		body, err := (&plog.ProtoMarshaler{}).MarshalLogs(m.logs(chunk))
		if err != nil {
			return fail(fmt.Errorf("encode logs: %w", err))
		}
		if err := s.send(ctx, signalLogs, s.logsURL, body, len(chunk)); err != nil {
			return fail(err)
		}
	}
	s.logger.DebugContext(ctx, "otlp batch delivered", "sink", s.name, "tenant", b.Tenant, "monitor", b.Monitor,
		"window", windowText(b), "metrics", len(metrics), "logs", len(logs))
	return nil
}

const (
	signalMetrics = "metrics"
	signalLogs    = "logs"
)

// OTLPError is a request the backend refused (after retries where the status allows them) or
// that never got an answer.
type OTLPError struct {
	Signal     string // "metrics" or "logs"
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
	Signal   string // "metrics" or "logs"
	URL      string
	Sent     int   // data points or log records in the request
	Rejected int64 // rejected_data_points or rejected_log_records
	Message  string
}

func (e *OTLPPartialError) Error() string {
	what := "data points"
	if e.Signal == signalLogs {
		what = "log records"
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

// send posts one export request, retrying what may go away by itself.
func (s *OTLP) send(ctx context.Context, signal, target string, payload []byte, items int) error {
	body, err := s.gzip(payload)
	if err != nil {
		return fmt.Errorf("compress %s: %w", signal, err)
	}
	try := func(ctx context.Context) (retry.Verdict, error) {
		after, err := s.post(ctx, signal, target, body, items)
		var oe *OTLPError
		if err != nil && errors.As(err, &oe) && oe.Temporary() {
			return retry.Verdict{Retry: true, After: after}, err
		}
		return retry.Verdict{}, err
	}
	err = s.retry.Do(ctx, try, func(attempt int, wait time.Duration, err error) {
		var oe *OTLPError
		errors.As(err, &oe)
		s.logger.WarnContext(ctx, "otlp request failed; retrying", "sink", s.name, "signal", signal,
			"status", oe.StatusCode, "attempt", attempt, "wait", wait, "error", err.Error())
	})
	var re *retry.Error
	var oe *OTLPError
	if errors.As(err, &re) && errors.As(err, &oe) {
		oe.Attempts = re.Attempts
	}
	return err
}

// gzip compresses an export request.
func (s *OTLP) gzip(payload []byte) ([]byte, error) {
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	if _, err := zw.Write(payload); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return zipped.Bytes(), nil
}

// post makes one attempt. It returns the Retry-After of a retryable answer (0 when none).
func (s *OTLP) post(ctx context.Context, signal, target string, body []byte, items int) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("%s POST %s: %w", signal, target, err)
	}
	for k, v := range s.opts.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("User-Agent", otlpUserAgent)
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, &OTLPError{Signal: signal, URL: target, Err: err}
	}
	defer resp.Body.Close()
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, maxOTLPErrorBody))
	// drain a little more so that the connection can be reused
	_, _ = io.CopyN(io.Discard, resp.Body, maxOTLPErrorBody)
	ctype, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))

	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		if readErr != nil {
			// the status is the answer; a body cut short only hides a partial success
			s.logger.WarnContext(ctx, "otlp response body unreadable", "sink", s.name, "signal", signal, "error", readErr.Error())
			return 0, nil
		}
		return 0, s.partial(ctx, signal, target, ctype, data, items)
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		msg := "the backend redirects"
		if loc, err := resp.Location(); err == nil {
			msg += " to " + loc.Scheme + "://" + loc.Host + loc.Path + "; use that URL in the sink spec"
		}
		return 0, &OTLPError{Signal: signal, URL: target, StatusCode: resp.StatusCode, Message: msg}
	}
	e := &OTLPError{Signal: signal, URL: target, StatusCode: resp.StatusCode, Message: s.scrub(errorMessage(ctype, data))}
	if retryableStatus(resp.StatusCode) {
		return retry.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), e
	}
	return 0, e
}

// partial checks an export response for a partial success.
func (s *OTLP) partial(ctx context.Context, signal, target, ctype string, data []byte, items int) error {
	if len(data) == 0 {
		return nil
	}
	r, err := parseExportResponse(signal, ctype, data)
	if err != nil {
		// A 2xx is the acceptance; some gateways answer with a body of their own.
		s.logger.DebugContext(ctx, "otlp response is not an export response", "sink", s.name, "signal", signal, "contentType", ctype)
		return nil
	}
	rejected, msg := r.Rejected, s.scrub(oneLine(r.ErrorMessage))
	switch {
	case rejected > 0 && !s.opts.AllowPartial:
		return &OTLPPartialError{Signal: signal, URL: target, Sent: items, Rejected: rejected, Message: msg}
	case rejected > 0:
		s.logger.WarnContext(ctx, "otlp backend rejected part of a request; accepted as allowed", "sink", s.name,
			"signal", signal, "rejected", rejected, "sent", items, "message", msg)
	case msg != "":
		s.logger.WarnContext(ctx, "otlp backend accepted with a warning", "sink", s.name, "signal", signal, "message", msg)
	}
	return nil
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

// scrub removes header values (credentials) from a text that came from the backend, in case it
// echoes the request.
func (s *OTLP) scrub(text string) string {
	for _, v := range s.opts.Headers {
		if len(v) >= 4 {
			text = strings.ReplaceAll(text, v, redacted)
		}
		// the token part alone, e.g. of "Bearer xyz" or "Api-Token xyz"
		if _, tok, ok := strings.Cut(v, " "); ok && len(tok) >= 4 {
			text = strings.ReplaceAll(text, tok, redacted)
		}
	}
	return text
}
