package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/fleet"
	"github.com/calm-collector/calm-collector/internal/monitor"
)

// SecretReader reads a connector secret's string by id or ARN.
type SecretReader interface {
	Secret(ctx context.Context, id string) ([]byte, error)
}

// invalidator is a SecretReader with a cache that can be dropped: after the token endpoint
// refused the credentials, the secret is read again (it may have been rotated within the TTL).
type invalidator interface{ Invalidate(id string) }

// Handler runs one collection per invocation. Long-lived parts (store, sinks, Cloud ALM clients)
// are built once and reused across warm invocations.
type Handler struct {
	Config collect.Config
	// SecretID is the default connector's secret (CALM_SECRET_ID); SecretIDs names more
	// connectors (CALM_SECRET_IDS), picked by the input's "connector".
	SecretID  string
	SecretIDs map[string]string
	Secrets   SecretReader
	// Fleet finds connectors added at run time and hands tenants out (nil: only SecretID(s)).
	Fleet *Fleet
	Store collect.Store
	Sinks []collect.Sink
	// DeadLetter keeps what a sink refuses for good (CALM_DEAD_LETTER; nil: such a refusal
	// holds its window).
	DeadLetter collect.DeadLetter
	// EMF receives the run's self-metrics (stdout in Lambda); nil writes none.
	EMF    io.Writer
	Logger *slog.Logger
	// HTTPClient's transport carries the Cloud ALM requests (nil: http.DefaultTransport); the
	// requests are counted and timed out as collect.Connect does for every caller.
	HTTPClient *http.Client
	// Now is the clock of the windows (nil: time.Now).
	Now func() time.Time

	mu      sync.Mutex
	clients map[string]cachedClient // by secret id
}

// cachedClient is a Cloud ALM client built from one version of a secret.
type cachedClient struct {
	hash   [32]byte
	client *calm.Client
}

// Input is the invocation event (after unwrapping an EventBridge envelope).
type Input struct {
	Monitors  []string       `json:"monitors,omitempty"`
	Backfill  *BackfillInput `json:"backfill,omitempty"`
	Connector string         `json:"connector,omitempty"`
	// Dispatch is the schedule's tick: hand out the tenants due (see Fleet).
	Dispatch bool `json:"dispatch,omitempty"`
}

// BackfillInput asks for a range to be collected again, leaving checkpoints alone.
type BackfillInput struct {
	From     string   `json:"from"`
	To       string   `json:"to"`
	Monitors []string `json:"monitors,omitempty"`
}

// envelope is the EventBridge event shape; a scheduled rule sends "detail-type": "Scheduled Event".
type envelope struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// ParseInput reads the invocation event: {}, {"monitors":[…]}, {"backfill":{…}}, optionally with
// "connector", or the same inside an EventBridge envelope's "detail". Errors name the field.
func ParseInput(raw []byte) (Input, *collect.Range, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		raw = []byte("{}")
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return Input{}, nil, fmt.Errorf("input: not a JSON object: %w", err)
	}
	if _, ok := probe["detail-type"]; ok {
		var env envelope
		if err := strictDecode(raw, &env); err != nil {
			return Input{}, nil, fmt.Errorf("input: EventBridge event: %w", err)
		}
		raw = bytes.TrimSpace(env.Detail)
		if len(raw) == 0 || string(raw) == "null" {
			raw = []byte("{}")
		}
		in, rng, err := ParseInput(raw)
		if err != nil {
			return in, nil, fmt.Errorf("detail: %w", err)
		}
		return in, rng, nil
	}
	var in Input
	if err := strictDecode(raw, &in); err != nil {
		return Input{}, nil, fmt.Errorf("input: %w; accepted: {} | {\"monitors\":[...]} | {\"backfill\":{\"from\":RFC3339,\"to\":RFC3339,\"monitors\":[...]}}, optional \"connector\"", err)
	}
	var problems []error
	if in.Dispatch && (in.Backfill != nil || len(in.Monitors) > 0 || in.Connector != "") {
		problems = append(problems, errors.New(`dispatch: a tick hands out every tenant due; give it no "connector", "monitors" or "backfill"`))
	}
	if in.Connector != "" {
		if err := fleet.CheckName(in.Connector); err != nil {
			problems = append(problems, fmt.Errorf("connector: %w", err))
		}
	}
	if in.Backfill == nil {
		problems = append(problems, checkMonitors("monitors", in.Monitors)...)
		return in, nil, errors.Join(problems...)
	}
	if len(in.Monitors) > 0 {
		problems = append(problems, errors.New(`monitors: give the monitors of a backfill in "backfill.monitors"`))
	}
	problems = append(problems, checkMonitors("backfill.monitors", in.Backfill.Monitors)...)
	var rng collect.Range
	parse := func(field, v string) time.Time {
		if v == "" {
			problems = append(problems, fmt.Errorf("%s: missing; give an RFC 3339 time like 2026-11-25T10:00:00Z", field))
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %q is not an RFC 3339 time like 2026-11-25T10:00:00Z", field, v))
		}
		return t.UTC()
	}
	rng.From, rng.To = parse("backfill.from", in.Backfill.From), parse("backfill.to", in.Backfill.To)
	if len(problems) == 0 && !rng.From.Before(rng.To) {
		problems = append(problems, fmt.Errorf("backfill.to: %s is not after backfill.from %s", in.Backfill.To, in.Backfill.From))
	}
	if err := errors.Join(problems...); err != nil {
		return in, nil, err
	}
	return in, &rng, nil
}

func strictDecode(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}

// checkMonitors refuses an id that is neither a built-in monitor nor of the form of a monitor
// given as data. Those are known only with CALM_EXTRA_MONITORS and the connector secret's
// extraMonitors: the run checks them against the tenant's table and names an unknown one.
func checkMonitors(field string, ids []string) []error {
	var errs []error
	for _, id := range ids {
		if id != collect.AutoMonitors && collect.Lookup(id) == nil && !monitor.IsDefinitionID(id) {
			errs = append(errs, fmt.Errorf("%s: unknown monitor %q; known: %s, or the id of a monitor given as data (lower-case letters, digits and '-')",
				field, id, strings.Join(collect.MonitorIDs(), ",")))
		}
	}
	return errs
}

// Handle runs one collection and returns its summary. It returns an error for bad input or
// settings, and when nothing could be done (every monitor failed): a partial run returns the
// summary without an error, so that an async retry does not repeat the work that succeeded.
// A run skipped because another holds the tenant's lease is not an error either.
func (h *Handler) Handle(ctx context.Context, event json.RawMessage) (collect.Summary, error) {
	in, backfill, err := ParseInput(event)
	if err != nil {
		h.logger().Error("bad input", "err", err)
		return collect.Summary{}, err
	}
	secretID, err := h.secretID(in.Connector)
	if err != nil {
		return collect.Summary{}, err
	}
	client, err := h.client(ctx, secretID)
	if err == nil {
		client, err = h.afterRotation(ctx, secretID, client)
	}
	if err != nil {
		h.logger().Error("connector", "err", err)
		return collect.Summary{}, err
	}
	monitors := in.Monitors
	if backfill != nil {
		monitors = in.Backfill.Monitors
	}
	log := h.logger().With("tenant", client.Settings().Name)
	h.projectTenant(ctx, h.connectorOf(secretID), client.Settings().Name, log)
	r := (&collect.Runner{Config: h.Config, Store: h.Store, Sinks: h.Sinks, DeadLetter: h.DeadLetter, Owner: owner(ctx), Now: h.Now, Logger: log}).For(client)
	sum := r.Run(ctx, collect.Request{Monitors: monitors, Backfill: backfill})
	if h.EMF != nil {
		if err := sum.WriteEMF(h.EMF); err != nil {
			log.Warn("write self-metrics", "err", err)
		}
	}
	log.Info("collection done", "ok", sum.OK, "incomplete", sum.Incomplete, "monitors", len(sum.Monitors), "failed", sum.Failed(),
		"skipped", sum.Skipped, "durationMs", sum.DurationMs)
	if sum.NothingDone() {
		msg := sum.Error
		if msg == "" {
			msg = fmt.Sprintf("all %d monitors failed; first: %s: %s", len(sum.Monitors), sum.Monitors[0].Monitor, sum.Monitors[0].Error)
		}
		return sum, fmt.Errorf("collect %s: %s", sum.Tenant, msg)
	}
	return sum, nil
}

// afterRotation gets a token and, when the token endpoint refuses the credentials (HTTP 401, or
// 400 invalid_client), drops the cached secret and reads it again: a secret rotated within the
// cache's TTL needs no redeploy and no wait. Other token failures are left to the run, which
// reports them per monitor.
func (h *Handler) afterRotation(ctx context.Context, secretID string, client *calm.Client) (*calm.Client, error) {
	inv, ok := h.Secrets.(invalidator)
	if !ok {
		return client, nil
	}
	_, err := client.Tokens().Token(ctx)
	var te *calm.TokenError
	if err == nil || !errors.As(err, &te) || (te.StatusCode != http.StatusUnauthorized && te.Code != "invalid_client") {
		return client, nil
	}
	h.logger().Warn("the token endpoint refused the credentials; reading the connector secret again", "secret", secretID, "status", te.StatusCode)
	inv.Invalidate(secretID)
	return h.client(ctx, secretID)
}

// connectorOf returns the connector name (CALM_SECRET_IDS, or the name under the connector
// prefix) of a secret, or "".
func (h *Handler) connectorOf(secretID string) string {
	for name, id := range h.SecretIDs {
		if id == secretID {
			return name
		}
	}
	if h.Fleet != nil && h.Fleet.Prefix != "" {
		if name, ok := strings.CutPrefix(secretID, h.Fleet.Prefix); ok {
			return name
		}
	}
	return ""
}

// secretID picks the connector's secret.
func (h *Handler) secretID(connector string) (string, error) {
	if connector == "" {
		if h.SecretID != "" {
			return h.SecretID, nil
		}
		if len(h.SecretIDs) == 1 {
			for _, id := range h.SecretIDs {
				return id, nil
			}
		}
		return "", fmt.Errorf("connector: missing; CALM_SECRET_ID is not set, so name one of: %s", strings.Join(names(h.SecretIDs), ", "))
	}
	if id, ok := h.SecretIDs[connector]; ok {
		return id, nil
	}
	if h.Fleet != nil && h.Fleet.Prefix != "" {
		return h.Fleet.Prefix + connector, nil // fleet.CheckName has checked the name (ParseInput)
	}
	return "", fmt.Errorf("connector: unknown connector %q; CALM_SECRET_IDS has: %s", connector, strings.Join(names(h.SecretIDs), ", "))
}

func names(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// client returns the Cloud ALM client of a secret: built on first use and reused across warm
// invocations (its token too), rebuilt when the secret's content changes (rotation, edit).
func (h *Handler) client(ctx context.Context, secretID string) (*calm.Client, error) {
	raw, err := h.Secrets.Secret(ctx, secretID)
	if err != nil {
		return nil, fmt.Errorf("read the connector secret: %w", err)
	}
	sum := sha256.Sum256(raw)
	h.mu.Lock()
	defer h.mu.Unlock()
	if c, ok := h.clients[secretID]; ok && c.hash == sum {
		return c.client, nil
	}
	var base http.RoundTripper
	if h.HTTPClient != nil {
		base = h.HTTPClient.Transport
	}
	c, err := collect.Connect(raw, h.connectorOf(secretID), collect.ClientOptions{Base: base, Logger: h.logger(), UserAgent: "calm-collector lambda", Concurrency: h.Config.Concurrency})
	if err != nil {
		return nil, fmt.Errorf("connector secret %s: %w", secretID, err)
	}
	if h.clients == nil {
		h.clients = map[string]cachedClient{}
	}
	h.clients[secretID] = cachedClient{hash: sum, client: c}
	return c, nil
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

// owner names this invocation in the tenant lease.
func owner(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return fmt.Sprintf("lambda %s request %s", lambdacontext.FunctionName, lc.AwsRequestID)
	}
	return "lambda " + lambdacontext.FunctionName
}
