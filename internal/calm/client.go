package calm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/calm-collector/calm-collector/internal/retry"
	"github.com/calm-collector/calm-collector/internal/transcript"
)

// Defaults of Options.
const (
	DefaultMaxRetries   = 4
	DefaultBaseBackoff  = 500 * time.Millisecond
	DefaultMaxBackoff   = 30 * time.Second
	DefaultMaxBodyBytes = 64 << 20
	DefaultPageSize     = 5000
	DefaultUserAgent    = "calm-collector"
)

// maxErrorBody bounds what is read of an error answer.
const maxErrorBody = 64 << 10

// maxRetryAfter is the longest Retry-After the client waits for; a longer one is returned
// to the caller at once (with APIError.RetryAfter) to schedule later.
const maxRetryAfter = 15 * time.Minute

// defaultMaxPages is the hard cap on pages of one paged call.
const defaultMaxPages = 10000

// Options tune a Client. The zero value is good for production.
type Options struct {
	HTTPClient   *http.Client  // nil: default (timeouts, proxy from environment)
	Tokens       *TokenSource  // nil: built from settings
	MaxRetries   int           // default 4 (429, 5xx, transport errors); negative: none
	BaseBackoff  time.Duration // default 500ms, jittered exponential
	MaxBackoff   time.Duration // default 30s
	MaxBodyBytes int64         // default 64 MiB per response
	// MemoryBudget, when above 0, is what the answers held at once by Concurrency callers may
	// take together: it caps each answer below MaxBodyBytes (AnswerCap).
	MemoryBudget int64
	Concurrency  int          // callers paging at once, e.g. a collect run's monitors (default 1)
	PageSize     int          // default 5000 (limit)
	UserAgent    string       // default "calm-collector"
	Logger       *slog.Logger // default slog.Default()
	// Recorder, when set, receives every HTTP exchange of the client as a transcript
	// (docs/transcripts.md): the API's, and the token endpoint's when the client builds its own
	// token source (a given Tokens records through TokenSource.RecordTo).
	Recorder *transcript.Recorder
}

// Client calls the Cloud ALM API of one tenant. Build it once and reuse it: it keeps the
// token between calls (and between warm Lambda invocations). It is safe for concurrent use.
type Client struct {
	*shared
	// counts, when set, adds up the calls made with this client (Counting) as well as Stats.
	counts *Counts
	// handoff, when set, closes once a metrics walk made with this client has its last answer
	// in (Handoff).
	handoff *handoff
}

// shared is what the clients of one New share: the settings, the token, what the client
// learned of the tenant, and the counters of Stats.
type shared struct {
	settings Settings
	base     *url.URL
	hc       *http.Client
	tokens   *TokenSource
	opt      Options
	logger   *slog.Logger
	maxPages int
	// metricsUnit is what the tenant's metrics paging counts, once a walk has learned it
	// (a pageUnit; see pages).
	metricsUnit atomic.Int32
	// metricsCapped is true once a metrics walk met a short page before its end (pager.capped).
	metricsCapped atomic.Bool
	retry         retry.Policy

	// total counts every call since New (Stats); errs the calls that ended in an error.
	total Counts
	errs  atomic.Int64
	// jsonOnly: metrics calls ask for protobuf-json (SetBinary(false), or the tenant refused
	// binary); binaryRefused: the tenant refused protobuf-binary during this client's life;
	// binaryServed: an answer to protobuf-binary came in protobuf.
	jsonOnly, binaryRefused, binaryServed atomic.Bool
}

// Stats are cumulative counters since New. BytesWire counts the answers' bodies as they came
// over the network (compressed when the server sent gzip), BytesRead the same bodies decoded.
type Stats struct{ Requests, Retries, Throttled, Errors, BytesRead, BytesWire int64 }

func defaultTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSHandshakeTimeout = 10 * time.Second
	tr.ResponseHeaderTimeout = 60 * time.Second
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return tr
}

// New builds a client for s (checked with Validate).
func New(s Settings, o Options) (*Client, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("new cloud alm client: %w", err)
	}
	base, err := url.Parse(s.APIBase() + "/")
	if err != nil {
		return nil, fmt.Errorf("new cloud alm client: url: %w", err)
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 2 * time.Minute, Transport: defaultTransport()}
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = DefaultMaxRetries
	} else if o.MaxRetries < 0 {
		o.MaxRetries = 0
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = DefaultBaseBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MemoryBudget > 0 {
		o.MaxBodyBytes = min(o.MaxBodyBytes, AnswerCap(o.MemoryBudget, o.Concurrency))
	}
	if o.PageSize <= 0 {
		o.PageSize = DefaultPageSize
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Tokens == nil {
		o.Tokens, err = NewTokenSource(s, o.HTTPClient)
		if err != nil {
			return nil, fmt.Errorf("new cloud alm client: %w", err)
		}
		o.Tokens.logger = o.Logger
		if o.Recorder != nil {
			o.Tokens.RecordTo(o.Recorder)
		}
	}
	if o.Recorder != nil {
		recordSettings(o.Recorder, s)
		o.HTTPClient = recording(o.HTTPClient, o.Recorder, transcript.ToAPI)
	}
	// The bearer token goes only to the API's own origin (docs/security.md).
	o.HTTPClient = sameOriginRedirects(o.HTTPClient)
	return &Client{shared: &shared{
		settings: s, base: base, hc: o.HTTPClient, tokens: o.Tokens, opt: o,
		logger: o.Logger, maxPages: defaultMaxPages,
		retry: retry.Policy{MaxRetries: o.MaxRetries, Backoff: o.BaseBackoff, MaxBackoff: o.MaxBackoff, MaxRetryAfter: maxRetryAfter},
	}}, nil
}

// Counting returns a client that is c (the same token, what it learned, Stats) and also adds
// the calls made with it to n: a collect run gives each monitor its own.
func (c *Client) Counting(n *Counts) *Client { return &Client{shared: c.shared, counts: n} }

// Handoff returns c for one request series of a sequence (a span of a backfill) and a channel
// that closes once the answer to the last page (by the total) of a metrics walk made with it is
// in, read whole and not yet decoded: the caller may start the next series then, and the two
// hold answers at once until this one ends (AnswerCap counts two walks a caller).
func (c *Client) Handoff() (*Client, <-chan struct{}) {
	h := &handoff{ch: make(chan struct{})}
	return &Client{shared: c.shared, counts: c.counts, handoff: h}, h.ch
}

// handoff is the channel of Handoff, closed once.
type handoff struct {
	once sync.Once
	ch   chan struct{}
}

func (h *handoff) close() {
	if h != nil {
		h.once.Do(func() { close(h.ch) })
	}
}

// minAnswerCap keeps a small budget from refusing ordinary pages (5,000 points of OTLP JSON are
// about 2 MiB).
const minAnswerCap = 4 << 20

// AnswerCap is the cap of one answer when budget is what the answers held at once by concurrency
// callers may take together: each holds two walks' answers at most (at a Handoff), answersHeld
// each. At least 4 MiB, at most DefaultMaxBodyBytes (also the cap without a budget).
func AnswerCap(budget int64, concurrency int) int64 {
	if budget <= 0 {
		return DefaultMaxBodyBytes
	}
	return min(DefaultMaxBodyBytes, max(minAnswerCap, budget/int64(max(concurrency, 1)*2*answersHeld)))
}

// Settings returns the settings the client was built with.
func (c *Client) Settings() Settings { return c.settings }

// Tokens returns the client's token source (for scope checks).
func (c *Client) Tokens() *TokenSource { return c.tokens }

// Stats returns the cumulative counters since New.
func (c *Client) Stats() Stats {
	return Stats{
		Requests: c.total.Requests.Load(), Retries: c.total.Retries.Load(), Throttled: c.total.Throttled.Load(),
		Errors: c.errs.Load(), BytesRead: c.total.Decoded.Load(), BytesWire: c.total.Wire.Load(),
	}
}

// request is one API call, rebuilt into an *http.Request for every attempt.
type request struct {
	ctx    context.Context
	method string
	path   string // relative to the API base, e.g. "calm-metrics/v1/metrics"
	query  url.Values
	body   []byte // JSON, nil for none
	shape  shape  // what a 2xx answer must look like to be data
	// accepts is the Accept header; "" is application/json.
	accepts string
}

func (r *request) accept() string {
	if r.accepts == "" {
		return "application/json"
	}
	return r.accepts
}

// response is a 2xx answer with its body read (bounded).
type response struct {
	header http.Header
	body   []byte
	// zipped is the body as it came when it came gzip'd (nil otherwise): an answer held ahead
	// of its decoding keeps only this (inflate makes the body again).
	zipped []byte
}

// correlationID is the answer's x-correlationid header, which SAP support asks for.
func correlationID(r *response) string { return r.header.Get("X-Correlationid") }

// newRequest builds a call of a path relative to {url}/api; body (if not nil) is sent as JSON.
func (c *Client) newRequest(ctx context.Context, method, path string, query url.Values, body any) (*request, error) {
	if strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("path %q must be relative to the API base", path)
	}
	r := &request{ctx: ctx, method: method, path: path, query: query}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode %s %s body: %w", method, path, err)
		}
		r.body = b
	}
	return r, nil
}

// do sends r (with retries, token refresh on 401) and decodes a JSON answer into v (unless v
// is nil). Non-2xx answers become *APIError.
func (c *Client) do(r *request, v any) (*response, error) {
	resp, err := c.send(r, nil)
	if err != nil {
		return nil, err
	}
	if v != nil {
		if err := json.Unmarshal(resp.body, v); err != nil {
			return resp, fmt.Errorf("%s %s: decode answer: %w", r.method, c.apiPath(r), err)
		}
	}
	return resp, nil
}

func (c *Client) apiPath(r *request) string {
	return c.base.ResolveReference(&url.URL{Path: r.path}).Path
}

// begin is the first of a request's two phases: it sends r (as send) and returns once a 2xx
// answer's status and headers are in; read, the second, returns the answer read whole.
func (c *Client) begin(r *request) (*reply, error) {
	p := &reply{began: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.resp, p.err = c.send(r, p)
	}()
	select {
	case <-p.began:
	case <-p.done:
		if p.err != nil {
			return nil, p.err
		}
	}
	return p, nil
}

// reply is a request whose answer has begun (begin).
type reply struct {
	header http.Header   // of the first 2xx answer, set before began closes
	began  chan struct{} // closed once a 2xx answer's status and headers are in
	done   chan struct{} // closed once resp or err is set
	resp   *response
	err    error
}

// read is the second phase of a request: its answer with the body read.
func (p *reply) read() (*response, error) {
	<-p.done
	return p.resp, p.err
}

// send sends r and reads its 2xx answer whole; p, when not nil, learns when the first 2xx
// answer has begun (begin).
func (c *Client) send(r *request, p *reply) (*response, error) {
	ctx := r.ctx
	u := c.base.ResolveReference(&url.URL{Path: r.path})
	if len(r.query) > 0 {
		u.RawQuery = r.query.Encode()
	}
	var resp *response
	refreshed := false
	try := func(ctx context.Context) (retry.Verdict, error) {
		var err error
		resp, err = c.attempt(ctx, r, u, p)
		var apiErr *APIError
		if err != nil && errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnauthorized && !refreshed {
			// The token may have been revoked or expired early: one forced refresh, one retry
			// that does not count against MaxRetries.
			refreshed = true
			c.count(func(n *Counts) { n.Retries.Add(1) })
			c.logger.Info("cloud alm answered 401; refreshing the token and retrying once", "method", r.method, "path", u.Path)
			if _, terr := c.tokens.Refresh(ctx); terr != nil {
				return retry.Verdict{}, fmt.Errorf("%w (token refresh after 401 failed: %w)", err, terr)
			}
			resp, err = c.attempt(ctx, r, u, p)
		}
		if err == nil {
			return retry.Verdict{}, nil
		}
		v := retry.Verdict{Retry: retryable(err)}
		if errors.As(err, &apiErr) {
			v.After = apiErr.RetryAfter
		}
		return v, err
	}
	err := c.retry.Do(ctx, try, func(attempt int, wait time.Duration, err error) {
		c.count(func(n *Counts) { n.Retries.Add(1) })
		c.logger.Warn("cloud alm call failed; retrying", "method", r.method, "path", u.Path,
			"attempt", attempt, "wait", wait.Round(time.Millisecond), "error", err)
	})
	if err != nil {
		c.failed(ctx)
		return nil, err
	}
	return resp, nil
}

// failed counts a call that ended in an error, unless the pager cancelled it because it had
// asked for a page ahead that it then did not need (the request itself is counted).
func (c *Client) failed(ctx context.Context) {
	if !errors.Is(context.Cause(ctx), errPrefetchDiscarded) {
		c.errs.Add(1)
	}
}

// transportError marks an error of the HTTP round trip (retryable).
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

func retryable(err error) bool {
	if isRedirectRefused(err) {
		return false
	}
	var te *transportError
	if errors.As(err, &te) {
		return true
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.StatusCode == http.StatusTooManyRequests || ae.StatusCode >= 500 || ae.NotData != ""
	}
	// A token endpoint that is briefly away is retried like the API; a refused client is not.
	var tk *TokenError
	if errors.As(err, &tk) {
		return (tk.Err != nil && tk.StatusCode == 0) || tk.StatusCode == http.StatusTooManyRequests || tk.StatusCode >= 500
	}
	return false
}

// attempt is one round trip; p, when not nil, learns when a 2xx answer has begun.
func (c *Client) attempt(ctx context.Context, r *request, u *url.URL, p *reply) (*response, error) {
	tok, err := c.tokens.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, u.Path, err)
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, u.Path, err)
	}
	req.Header.Set("Accept", r.accept())
	// Asking for gzip ourselves turns off the transport's transparent gzip: readBody counts
	// the bytes on the wire and bounds the decompressed size (docs/architecture.md, transfer).
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("User-Agent", c.opt.UserAgent)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.count(func(n *Counts) { n.Requests.Add(1) })
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s %s: %w", r.method, u.Path, ctx.Err())
		}
		if isRedirectRefused(err) {
			return nil, fmt.Errorf("%s %s: %w", r.method, u.Path, stripURL(err))
		}
		return nil, &transportError{fmt.Errorf("%s %s: %w", r.method, u.Path, stripURL(err))}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, c.checkResponse(r.method, u.Path, resp)
	}
	if p != nil && p.header == nil { // a pager's next request may go out while this body is read
		p.header = resp.Header
		close(p.began)
	}
	b, zipped, err := c.readBody(resp, c.opt.MaxBodyBytes)
	switch {
	case errors.Is(err, errBodyTooLarge):
		return nil, fmt.Errorf("%s %s: answer is larger than %d bytes (MaxBodyBytes), counted decompressed; ask for less (smaller limit or window)", r.method, u.Path, c.opt.MaxBodyBytes)
	case errors.Is(err, errEncoding):
		return nil, fmt.Errorf("%s %s: read answer: %w", r.method, u.Path, err)
	case err != nil && ctx.Err() != nil:
		return nil, fmt.Errorf("%s %s: read answer: %w", r.method, u.Path, ctx.Err())
	case err != nil:
		return nil, &transportError{fmt.Errorf("%s %s: read answer: %w", r.method, u.Path, err)}
	}
	if looksHTML(resp.Header.Get("Content-Type"), b) {
		return nil, &APIError{StatusCode: resp.StatusCode, Method: r.method, Path: u.Path, HTML: true,
			CorrelationID: resp.Header.Get("X-Correlationid")}
	}
	if why := r.shape.notData(b); why != "" {
		return nil, &APIError{StatusCode: resp.StatusCode, Method: r.method, Path: u.Path, NotData: why,
			CorrelationID: resp.Header.Get("X-Correlationid"), SAPMessage: resp.Header.Get("Sap-Message")}
	}
	return &response{header: resp.Header, body: b, zipped: zipped}, nil
}

// stripURL drops the full URL (with its query) from *url.Error: the caller already names the
// path, and queries only add noise.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// checkResponse turns a non-2xx answer into an *APIError, reading a bounded part of the body.
func (c *Client) checkResponse(method, path string, resp *http.Response) *APIError {
	e := &APIError{
		StatusCode:    resp.StatusCode,
		Method:        method,
		Path:          path,
		CorrelationID: resp.Header.Get("X-Correlationid"),
		SAPMessage:    resp.Header.Get("Sap-Message"),
		RetryAfter:    c.retry.RetryAfter(resp.Header.Get("Retry-After")),
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		c.count(func(n *Counts) { n.Throttled.Add(1) })
	}
	b, _, _ := c.readBody(resp, maxErrorBody) // a cut or unreadable body still names the status
	if looksHTML(resp.Header.Get("Content-Type"), b) {
		e.HTML = true
		return e
	}
	e.Message = errorMessage(b)
	return e
}

// errorMessage reads SAP's message from {"error":"…","message":"…"}, OData
// {"error":{"code":"…","message":"…"}} or OAuth {"error":"…","error_description":"…"};
// any other body is shown short.
func errorMessage(b []byte) string {
	var body struct {
		Error       json.RawMessage `json:"error"`
		Message     any             `json:"message"`
		Description string          `json:"error_description"`
	}
	if json.Unmarshal(b, &body) != nil {
		return shortText(b)
	}
	msg := func(v any) string {
		switch m := v.(type) {
		case string:
			return m
		case map[string]any: // OData v2 {"lang":"en","value":"…"}
			if s, ok := m["value"].(string); ok {
				return s
			}
		}
		return ""
	}
	var code string
	var odata struct {
		Code    string `json:"code"`
		Message any    `json:"message"`
	}
	if json.Unmarshal(body.Error, &code) != nil && json.Unmarshal(body.Error, &odata) == nil {
		return join(odata.Code, msg(odata.Message))
	}
	if m := msg(body.Message); m != "" {
		return join(code, m)
	}
	if body.Description != "" {
		return join(code, body.Description)
	}
	if code != "" {
		return code
	}
	return shortText(b)
}

func join(code, msg string) string {
	switch {
	case code == "" || code == msg:
		return msg
	case msg == "":
		return code
	}
	return code + ": " + msg
}
