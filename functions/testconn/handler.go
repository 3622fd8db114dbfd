package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/conntest"
	"github.com/calm-collector/calm-collector/internal/fleet"
	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/secrets"
)

// MaxBody is the largest settings body accepted (a service key is about 4 KiB; x509 ones 8 KiB).
const MaxBody = 64 << 10

// deadlineMargin is kept free before the invocation's deadline to write the answer.
const deadlineMargin = 2 * time.Second

// Store is what the handler needs of one connector secret (secrets.Source).
type Store = secrets.Source

// invalidator is implemented by cached stores: the next Load reads the secret again.
type invalidator interface{ Invalidate() }

// Handler answers the testconn function URL: GET tests the stored connector secret, POST tests
// the settings in the body, POST ?save=true also stores them when the test passes.
type Handler struct {
	// Stores are the connectors' secrets by name; "" is the default (CALM_SECRET_ID).
	Stores map[string]Store
	// Connector returns the store of a connector found by name under CALM_CONNECTOR_PREFIX,
	// also one not created yet (nil: only Stores).
	Connector func(name string) Store
	// DefaultConnector is the connector name of the default secret ("" when it has none).
	DefaultConnector string
	// Allow limits the hosts POSTed settings may point at.
	Allow conntest.Allowlist
	// Monitors are the monitors tested.
	Monitors []string
	// Extra are the monitors given as data (Config.Extra).
	Extra []monitor.Monitor
	// MonitorsAuto says Monitors is what "auto" picks (see conntest.Options.Auto).
	MonitorsAuto bool
	// QuotaBytes is the monthly API quota the quota check compares with (0: 24 GB).
	QuotaBytes int64
	// Timeout bounds each check (0: conntest.DefaultTimeout).
	Timeout time.Duration
	// HTTPClient tests stored settings (nil: conntest's default). POSTed settings always use
	// conntest's default client, whose dialer enforces Allow.
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// response is the body of a test answer: the report, and for a save request whether it was saved.
type response struct {
	conntest.Report
	Saved *bool  `json:"saved,omitempty"`
	Error string `json:"error,omitempty"`
	// Note says how the saved settings differ from the request's (named after the connector).
	Note string `json:"note,omitempty"`
}

// Handle serves one function URL request. It never returns an error: every outcome is an HTTP
// answer, so that the caller sees a JSON body rather than a Lambda error.
func (h *Handler) Handle(ctx context.Context, req events.LambdaFunctionURLRequest) (events.LambdaFunctionURLResponse, error) {
	log := h.logger()
	// Answer before Lambda's own deadline: a test cut short still reports what it found.
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-deadlineMargin))
		defer cancel()
	}
	method := strings.ToUpper(req.RequestContext.HTTP.Method)
	q, errResp := parseQuery(req)
	if errResp != nil {
		return *errResp, nil
	}
	log = log.With("method", method, "connector", q.connector, "save", q.save)

	switch method {
	case http.MethodGet:
		if q.save {
			return errorResponse(http.StatusBadRequest, "save=true needs a POST with the settings in the body"), nil
		}
		store, name, errResp := h.store(q.connector)
		if errResp != nil {
			return *errResp, nil
		}
		report := h.testStored(ctx, log, name, store)
		h.logReport(ctx, log, report)
		return jsonResponse(http.StatusOK, response{Report: report}), nil
	case http.MethodPost:
		return h.post(ctx, log, req, q), nil
	default:
		resp := errorResponse(http.StatusMethodNotAllowed, fmt.Sprintf("method %s is not allowed: GET tests the stored connector, POST tests the settings in the body (?save=true stores them when the test passes)", method))
		resp.Headers["Allow"] = "GET, POST"
		return resp, nil
	}
}

// query is what a request's query string asks for.
type query struct {
	connector     string // which stored connector ("" the default)
	save, replace bool   // store the POSTed settings when the test passes; even over another identity (see save)
}

// parseQuery reads the query string (and the parameters map an event built by hand may carry
// instead); a malformed one is a 400 answer.
func parseQuery(req events.LambdaFunctionURLRequest) (query, *events.LambdaFunctionURLResponse) {
	bad := func(msg string) (query, *events.LambdaFunctionURLResponse) {
		resp := errorResponse(http.StatusBadRequest, msg)
		return query{}, &resp
	}
	values, err := url.ParseQuery(req.RawQueryString)
	if err != nil {
		return bad("the query string is malformed: " + err.Error())
	}
	// Function URLs fill both; an event built by hand may carry only the map.
	for k, v := range req.QueryStringParameters {
		if !values.Has(k) {
			values.Set(k, v)
		}
	}
	q := query{connector: values.Get("connector")}
	if q.save, err = parseBool(values.Get("save")); err != nil {
		return bad("save: " + err.Error())
	}
	if q.replace, err = parseBool(values.Get("replace")); err != nil {
		return bad("replace: " + err.Error())
	}
	return q, nil
}

// post tests the settings in the request body and, when asked and the test passes, stores them
// in the connector's secret.
func (h *Handler) post(ctx context.Context, log *slog.Logger, req events.LambdaFunctionURLRequest, q query) events.LambdaFunctionURLResponse {
	body, errResp := readBody(req)
	if errResp != nil {
		log.WarnContext(ctx, "rejected the request body", "status", errResp.StatusCode, "bytes", len(req.Body))
		return *errResp
	}
	var store Store
	name := q.connector
	if q.save {
		if store, name, errResp = h.store(name); errResp != nil {
			return *errResp
		}
	}
	report := conntest.Run(ctx, body, conntest.Options{
		Monitors:   h.Monitors,
		Extra:      h.Extra,
		Auto:       h.MonitorsAuto,
		QuotaBytes: h.QuotaBytes,
		AllowHost:  h.Allow.Host,
		AllowAddr:  h.Allow.Addr,
		Timeout:    h.Timeout,
	})
	h.logReport(ctx, log, report)
	if !q.save {
		return jsonResponse(http.StatusOK, response{Report: report})
	}
	saved := false
	if !report.OK {
		return jsonResponse(http.StatusUnprocessableEntity, response{Report: report, Saved: &saved,
			Error: "not saved: the connection test failed; the stored secret is unchanged"})
	}
	note, err := h.save(ctx, store, name, body, q.replace)
	if errors.As(err, new(*identityError)) {
		log.WarnContext(ctx, "refused to change the connector's identity", "err", err)
		return jsonResponse(http.StatusConflict, response{Report: report, Saved: &saved, Error: "not saved: " + err.Error()})
	} else if err != nil {
		log.ErrorContext(ctx, "save the connector secret", "secret", store.Name(), "err", err)
		return jsonResponse(http.StatusBadGateway, response{Report: report, Saved: &saved,
			Error: "the test passed but saving failed: " + err.Error()})
	}
	saved = true
	log.InfoContext(ctx, "saved the connector secret", "secret", store.Name())
	return jsonResponse(http.StatusOK, response{Report: report, Saved: &saved, Note: note})
}

// testStored tests the stored secret. A token failure may mean the secret was rotated since it
// was cached: the cache is dropped and the test runs once more on a fresh read.
func (h *Handler) testStored(ctx context.Context, log *slog.Logger, name string, store Store) conntest.Report {
	opts := conntest.Options{Monitors: h.Monitors, Extra: h.Extra, Auto: h.MonitorsAuto, Timeout: h.Timeout, HTTPClient: h.HTTPClient, QuotaBytes: h.QuotaBytes}
	report := h.runStored(ctx, name, store, opts)
	if tok, ok := report.Check("token"); ok && tok.Status == conntest.Fail {
		if inv, ok := store.(invalidator); ok {
			log.InfoContext(ctx, "token failed; re-reading the secret in case it was rotated", "secret", store.Name())
			inv.Invalidate()
			report = h.runStored(ctx, name, store, opts)
		}
	}
	return report
}

func (h *Handler) runStored(ctx context.Context, name string, store Store, opts conntest.Options) conntest.Report {
	raw, err := store.Load(ctx)
	if errors.Is(err, secrets.ErrPlaceholder) {
		// The test itself says "not filled in yet" and what to put there.
		report := conntest.Run(ctx, nil, opts)
		report.Connector = cmp.Or(report.Connector, name)
		return report
	}
	if err != nil {
		return conntest.Unavailable(name, fmt.Sprintf("read the connector secret %s: %v", store.Name(), err),
			"check that the secret exists and that the function may read it (secretsmanager:GetSecretValue, and kms:Decrypt "+
				"for a customer-managed key); CALM_SECRET_ID or CALM_SECRET_IDS name it", opts)
	}
	return conntest.Run(ctx, raw, opts)
}

// save stores tested settings in connector-fields form (normalised, with the real secret).
// A connector's name is its tenant's identity (fleet.BindName): settings without a "name" of
// their own (a service key as downloaded) are stored under the connector's name, which note
// then says; settings naming another tenant are refused, replace=true or not.
func (h *Handler) save(ctx context.Context, store Store, connector string, body []byte, replace bool) (note string, err error) {
	if connector == "" {
		connector = h.DefaultConnector
	}
	var s calm.Settings
	if connector == "" {
		s, _, err = calm.ParseSettings(body)
	} else {
		var renamed bool
		s, renamed, err = fleet.BindName(connector, body)
		if renamed {
			note = fmt.Sprintf("the settings have no \"name\": stored as %q, the connector's name, which names the tenant", connector)
		}
	}
	if ne := (*fleet.NameError)(nil); errors.As(err, &ne) {
		return "", &identityError{ne.Error()}
	}
	if err != nil {
		return "", fmt.Errorf("parse the tested settings: %w", err)
	}
	if !replace {
		if err := sameIdentity(ctx, store, connector, s); err != nil {
			return "", err
		}
	}
	data, err := s.MarshalConnector()
	if err != nil {
		return "", fmt.Errorf("encode the connector settings: %w", err)
	}
	if err := store.Save(ctx, data); err != nil {
		return "", err
	}
	if inv, ok := store.(invalidator); ok {
		inv.Invalidate()
	}
	return note, nil
}

// store picks the connector: ?connector=name from CALM_SECRET_IDS or under the connector
// prefix, else the default.
func (h *Handler) store(name string) (Store, string, *events.LambdaFunctionURLResponse) {
	if s, ok := h.Stores[name]; ok {
		return s, name, nil
	}
	if name != "" && h.Connector != nil {
		if err := fleet.CheckName(name); err != nil {
			resp := errorResponse(http.StatusBadRequest, err.Error())
			return nil, "", &resp
		}
		return h.Connector(name), name, nil
	}
	var names []string
	for n := range h.Stores {
		if n != "" {
			names = append(names, n)
		}
	}
	if name == "" && len(names) == 1 {
		return h.Stores[names[0]], names[0], nil
	}
	known := "none are configured in CALM_SECRET_IDS"
	if len(names) > 0 {
		slices.Sort(names)
		known = "use one of " + strings.Join(names, ", ")
	}
	if name == "" {
		resp := errorResponse(http.StatusBadRequest, "no default connector (CALM_SECRET_ID is not set): name one with ?connector=; "+known)
		return nil, "", &resp
	}
	resp := errorResponse(http.StatusNotFound, fmt.Sprintf("unknown connector %q: %s", name, known))
	return nil, "", &resp
}

// readBody returns the settings in a POST body, or the answer for a body that is missing,
// too large or not a JSON object. The body's content is never quoted: it holds a secret.
func readBody(req events.LambdaFunctionURLRequest) ([]byte, *events.LambdaFunctionURLResponse) {
	fail := func(status int, msg string) ([]byte, *events.LambdaFunctionURLResponse) {
		r := errorResponse(status, msg)
		return nil, &r
	}
	tooLarge := fmt.Sprintf("the body is larger than %d KiB; POST only the connector settings or the service key JSON", MaxBody>>10)
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		if base64.StdEncoding.DecodedLen(len(req.Body)) > MaxBody+3 {
			return fail(http.StatusRequestEntityTooLarge, tooLarge)
		}
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return fail(http.StatusBadRequest, "the body is marked base64 but does not decode: send the settings JSON as the request body")
		}
		body = b
	}
	if len(body) > MaxBody {
		return fail(http.StatusRequestEntityTooLarge, tooLarge)
	}
	body = bytes.TrimSpace(body)
	switch {
	case len(body) == 0:
		return fail(http.StatusBadRequest, "the body is empty: POST the connector settings JSON "+
			`({"authenticationServer","clientId","clientSecret","url"}) or the BTP service key JSON as downloaded`)
	case !json.Valid(body):
		return fail(http.StatusBadRequest, "the body is not valid JSON: POST the connector settings JSON or the BTP service key JSON as downloaded")
	case body[0] != '{':
		return fail(http.StatusBadRequest, "the body is JSON but not an object: POST the connector settings JSON or the BTP service key JSON as downloaded")
	}
	return body, nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "false", "0", "no":
		return false, nil
	case "true", "1", "yes":
		return true, nil
	}
	return false, fmt.Errorf("%q must be true or false", v)
}

func (h *Handler) logReport(ctx context.Context, log *slog.Logger, r conntest.Report) {
	level := slog.LevelInfo
	if !r.OK {
		level = slog.LevelWarn
	}
	// The report holds no secret; only its verdict and failed check ids are logged.
	log.Log(ctx, level, "connection test", "tenant", r.Connector, "ok", r.OK, "failed", r.Failed(), "duration_ms", r.DurationMs)
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

func jsonResponse(status int, v any) events.LambdaFunctionURLResponse {
	b, err := json.Marshal(v)
	if err != nil {
		// Reports and errors are plain data; this cannot happen, but never answer with nothing.
		status, b = http.StatusInternalServerError, []byte(`{"error":"encode the response"}`)
	}
	return events.LambdaFunctionURLResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"},
		Body:       string(b),
	}
}

func errorResponse(status int, msg string) events.LambdaFunctionURLResponse {
	return jsonResponse(status, map[string]string{"error": msg})
}
