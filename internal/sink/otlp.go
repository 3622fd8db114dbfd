package sink

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/retry"
	"github.com/calm-collector/calm-collector/internal/sink/spec"
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
	// MaxPerRequest bounds the data points, log records or spans of one request; 0 means 2000.
	MaxPerRequest int
	// AllowPartial accepts a batch that the backend answered with a partial success (some points
	// rejected), logging the rejection. By default such a batch fails (see OTLP.Write).
	AllowPartial bool
	// Logger receives retries (warn) and deliveries (debug); slog.Default() when nil.
	Logger *slog.Logger
	// Now is the clock of the log records' observed time (the run's clock); time.Now when nil.
	// Retries are timed on the wall clock, which the context's deadline is on.
	Now func() time.Time
}

// OTLP sends records to an OpenTelemetry backend over OTLP/HTTP: metrics to {base}/v1/metrics,
// status events and logs to {base}/v1/logs, spans to {base}/v1/traces, as gzip-compressed
// protobuf. The mapping is
// described in otlpmap.go. It is safe for concurrent use.
type OTLP struct {
	name       string
	metricsURL string
	logsURL    string
	tracesURL  string
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
		tracesURL:  base + "/v1/traces",
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
	if s.opts.Now == nil {
		s.opts.Now = time.Now
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

// Write sends the batch's metric records to {base}/v1/metrics, its events and logs to
// {base}/v1/logs and its spans to {base}/v1/traces, at most MaxPerRequest items per request, and returns nil only when the backend
// accepted every request. It stops at the first request that fails.
//
// A partial success (the backend accepted the request but rejected some points or log records)
// is returned as a *OTLPPartialError unless AllowPartial is set: the window's checkpoint then does
// not move and the whole window is sent again on the next run. That is a choice for not losing
// data silently over not sending twice: a backend that does not deduplicate sees the accepted
// part twice. When the backend keeps rejecting the same points, fix the cause it names or set
// AllowPartial (CALM_OTLP_ALLOW_PARTIAL=true) to accept and log such answers.
func (s *OTLP) Write(ctx context.Context, b Batch) error {
	if len(b.Series) == 0 {
		return nil
	}
	m := newOTLPMapper(b, s.opts.Now())
	// Each signal's records, one by one: a request refused for its size or content is sent again
	// in halves, down to one record (sendSplitting).
	var metrics, logs, spans []record.Record
	for r := range b.Records() {
		switch r.Kind() {
		case record.KindMetric:
			metrics = append(metrics, r)
		case record.KindEvent, record.KindLog:
			logs = append(logs, r)
		case record.KindSpan:
			spans = append(spans, r)
		}
	}
	fail := func(err error) error {
		return fmt.Errorf("%s: write %s/%s window %s: %w", s.name, b.Tenant, b.Monitor, windowText(b), err)
	}
	// MetricsData has the wire format of ExportMetricsServiceRequest (and LogsData that of
	// ExportLogsServiceRequest); pmetricotlp and plogotlp would link all of gRPC.
	encodeMetrics := func(recs []record.Record) ([]byte, error) {
		md, err := m.metrics(recs)
		if err != nil {
			return nil, err
		}
		return (&pmetric.ProtoMarshaler{}).MarshalMetrics(md)
	}
	encodeLogs := func(recs []record.Record) ([]byte, error) { return (&plog.ProtoMarshaler{}).MarshalLogs(m.logs(recs)) }
	var tally exportTally
	for chunk := range slices.Chunk(metrics, s.opts.MaxPerRequest) {
		if err := s.sendSplitting(ctx, signalMetrics, s.metricsURL, chunk, encodeMetrics, &tally); err != nil {
			return fail(err)
		}
	}
	for chunk := range slices.Chunk(logs, s.opts.MaxPerRequest) {
		if err := s.sendSplitting(ctx, signalLogs, s.logsURL, chunk, encodeLogs, &tally); err != nil {
			return fail(err)
		}
	}
	encodeTraces := func(recs []record.Record) ([]byte, error) {
		td, err := m.traces(recs)
		if err != nil {
			return nil, err
		}
		return (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	}
	for chunk := range slices.Chunk(spans, s.opts.MaxPerRequest) {
		if err := s.sendSplitting(ctx, signalTraces, s.tracesURL, chunk, encodeTraces, &tally); err != nil {
			return fail(err)
		}
	}
	if tally.invalid > 0 && tally.accepted == 0 {
		// Every record refused as invalid: the fault is the sink's (endpoint, headers, tenant
		// settings of the backend), not one record's. The window holds.
		return fail(tally.refusedEverything())
	}
	if err := b.KeepRefused(ctx, s.name, tally.refused); err != nil {
		return fail(err)
	}
	s.logger.DebugContext(ctx, "otlp batch delivered", "sink", s.name, "tenant", b.Tenant, "monitor", b.Monitor,
		"window", windowText(b), "metrics", len(metrics), "logs", len(logs), "spans", len(spans))
	return nil
}

// exportTally adds up one batch's export requests: records the backend accepted, and those it
// refused for good, with how many of them as invalid (400).
type exportTally struct {
	accepted, invalid int
	refused           []Refused
	// invalidAnswers counts requests answered 400; firstInvalid is the first such answer.
	invalidAnswers int
	firstInvalid   error
}

// maxUnacceptedInvalid is how many requests answered 400 a batch may take while the backend has
// accepted none of its records: past it the backend is taken to refuse everything (a wrong
// endpoint or header) and splitting stops, instead of asking once per record.
const maxUnacceptedInvalid = 16

// noteInvalid counts a request answered 400 and reports whether splitting should stop: the
// backend has refused maxUnacceptedInvalid requests and accepted nothing.
func (t *exportTally) noteInvalid(err error) bool {
	t.invalidAnswers++
	if t.firstInvalid == nil {
		t.firstInvalid = err
	}
	return t.accepted == 0 && t.invalidAnswers >= maxUnacceptedInvalid
}

// refusedEverything is the error of a batch whose records the backend refused as invalid
// without accepting any: the window holds.
func (t *exportTally) refusedEverything() error {
	return fmt.Errorf("the backend refused each record as invalid and accepted none; check the OTLP endpoint and headers: %w", t.firstInvalid)
}

// sendSplitting sends recs as one export request. When the backend refuses the request for its
// size (413) or as invalid (400, which OTLP/HTTP says not to retry) it sends each half on its
// own, down to single records: a single record still refused is refused for good (tally.refused),
// so one bad record does not hold the others back (docs/design.md §6).
func (s *OTLP) sendSplitting(ctx context.Context, signal, target string, recs []record.Record,
	encode func([]record.Record) ([]byte, error), tally *exportTally) error {
	payload, err := encode(recs)
	if err != nil {
		return fmt.Errorf("encode %s: %w", signal, err)
	}
	err = s.send(ctx, signal, target, payload, len(recs))
	var oe *OTLPError
	switch {
	case err == nil:
		tally.accepted += len(recs)
		return nil
	case !errors.As(err, &oe) || (oe.StatusCode != http.StatusRequestEntityTooLarge && oe.StatusCode != http.StatusBadRequest):
		return err
	case oe.StatusCode == http.StatusBadRequest && tally.noteInvalid(err):
		return tally.refusedEverything()
	case len(recs) == 1:
		why := "413 (too large)"
		if oe.StatusCode == http.StatusBadRequest {
			why = "400 (invalid)"
			tally.invalid++
		}
		tally.refused = append(tally.refused, Refused{Record: &recs[0],
			Reason: fmt.Sprintf("the backend answered %s to a %s request of this record alone (%d bytes of protobuf): %s", why, signal, len(payload), oe.Message)})
		return nil
	}
	s.logger.DebugContext(ctx, "otlp request refused; sending it in halves", "sink", s.name, "signal", signal, "items", len(recs), "status", oe.StatusCode)
	half := len(recs) / 2
	if err := s.sendSplitting(ctx, signal, target, recs[:half], encode, tally); err != nil {
		return err
	}
	return s.sendSplitting(ctx, signal, target, recs[half:], encode, tally)
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
		return s.retry.RetryAfter(resp.Header.Get("Retry-After")), e
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
