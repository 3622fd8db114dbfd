package main

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/aws/aws-lambda-go/events"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/sink"
	"github.com/calm-collector/calm-collector/internal/sink/spec"
	"github.com/calm-collector/calm-collector/internal/state"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

func TestParseInputAcceptsEveryForm(t *testing.T) {
	for _, f := range []string{"../../events/collect-schedule.json", "../../events/collect-backfill.json", "../../events/collect-scheduled-event.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		in, rng, err := ParseInput(b)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if strings.Contains(f, "backfill") != (rng != nil) {
			t.Errorf("%s: backfill range %v", f, rng)
		}
		if rng != nil && (strings.Join(in.Backfill.Monitors, ",") != "hm,jam" || !rng.From.Equal(time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC))) {
			t.Errorf("%s: %+v %v", f, in.Backfill, rng)
		}
	}
	// The schedule's tick (infra/cdk's TestReleaseTemplate holds it to the schedule's input) and
	// one work message of the queue, as the queue's event-source mapping delivers it.
	b, err := os.ReadFile("../../events/collect-dispatch.json")
	if err != nil {
		t.Fatal(err)
	}
	if in, _, err := ParseInput(b); err != nil || !in.Dispatch {
		t.Errorf("collect-dispatch.json: %+v %v; want a dispatch", in, err)
	}
	if b, err = os.ReadFile("../../events/collect-queue.json"); err != nil {
		t.Fatal(err)
	}
	var q events.SQSEvent
	if err := json.Unmarshal(b, &q); err != nil || !isSQS(b) || len(q.Records) != 1 {
		t.Fatalf("collect-queue.json is not one SQS message: %v", err)
	}
	if in, _, err := ParseInput([]byte(q.Records[0].Body)); err != nil || in.Connector != "default" {
		t.Errorf("collect-queue.json's message: %+v %v; want connector default", in, err)
	}
	in, _, err := ParseInput([]byte(`{"detail-type":"Scheduled Event","source":"aws.events","detail":{"monitors":["hm"],"connector":"prod"}}`))
	if err != nil || in.Connector != "prod" || in.Monitors[0] != "hm" {
		t.Errorf("envelope with detail: %+v %v", in, err)
	}
	if _, _, err := ParseInput(nil); err != nil {
		t.Errorf("empty input: %v", err)
	}
}

func TestParseInputNamesTheField(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"monitor":["hm"]}`, `input: json: unknown field "monitor"; accepted:`},
		{`{"monitors":["hm","X x"]}`, `monitors: unknown monitor "X x"; known: hm,`},
		{`{"backfill":{"from":"yesterday","to":"2026-11-25T08:00:00Z"}}`, `backfill.from: "yesterday" is not an RFC 3339 time like 2026-11-25T10:00:00Z`},
		{`{"backfill":{"from":"2026-11-25T08:00:00Z"}}`, `backfill.to: missing; give an RFC 3339 time like 2026-11-25T10:00:00Z`},
		{`{"backfill":{"from":"2026-11-25T08:00:00Z","to":"2026-11-25T07:00:00Z"}}`, `backfill.to: 2026-11-25T07:00:00Z is not after backfill.from 2026-11-25T08:00:00Z`},
		{`{"backfill":{"from":"2026-11-25T06:00:00Z","to":"2026-11-25T07:00:00Z","monitors":["no/pe"]}}`, `backfill.monitors: unknown monitor "no/pe"`},
		{`{"monitors":["hm"],"backfill":{"from":"2026-11-25T06:00:00Z","to":"2026-11-25T07:00:00Z"}}`, `monitors: give the monitors of a backfill in "backfill.monitors"`},
		{`{"detail-type":"Scheduled Event","detail":{"monitors":"hm"}}`, `detail: input: json: cannot unmarshal string into Go struct field Input.monitors of type []string`},
		{`[1]`, `input: not a JSON object`},
	}
	for _, tt := range tests {
		_, _, err := ParseInput([]byte(tt.in))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("ParseInput(%s) = %v\nwant prefix %s", tt.in, err, tt.want)
		}
	}
}

func TestEnvFromNamesEveryProblem(t *testing.T) {
	_, err := envFrom(func(k string) string {
		return map[string]string{"CALM_SINKS": "stdout,file:/tmp/x", "CALM_SECRET_TTL": "soon", "CALM_LAG": "x"}[k]
	})
	for _, want := range []string{
		`CALM_LAG: "x" is not a duration`,
		"CALM_SECRET_ID: missing; set it to the connector secret's id or ARN (or set CALM_SECRET_IDS or CALM_CONNECTOR_PREFIX)",
		"CALM_STATE_TABLE: missing; set it to the DynamoDB state table's name",
		`CALM_SINKS: sink "file:/tmp/x" is not usable in Lambda; ` + spec.LambdaForms,
		`CALM_SECRET_TTL: "soon" is not a positive duration like 5m`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("envFrom error = %v\nwant it to contain %s", err, want)
		}
	}
	s, err := envFrom(func(k string) string {
		return map[string]string{"CALM_SECRET_ID": "arn:x", "CALM_STATE_TABLE": "calm-state"}[k]
	})
	if err != nil || s.sinks[0] != "stdout" || s.secretTTL != 5*time.Minute || s.collect.Resolution != 5*time.Minute {
		t.Errorf("defaults: %+v %v", s, err)
	}
	// What the stack writes for an OTLP sink and the archive is accepted.
	s, err = envFrom(func(k string) string {
		return map[string]string{"CALM_SECRET_ID": "arn:x", "CALM_STATE_TABLE": "calm-state",
			"CALM_SINKS": "stdout,otlp+https://otlp.example.com/otlp,s3://archive/records"}[k]
	})
	if err != nil || len(s.sinks) != 3 {
		t.Errorf("stdout, otlp and s3 sinks: %+v %v", s.sinks, err)
	}
}

// fakeSecrets serves secrets from memory and counts reads.
type fakeSecrets struct {
	mu     sync.Mutex
	values map[string][]byte
}

func (f *fakeSecrets) Secret(_ context.Context, id string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.values[id], nil
}

func TestHandleAgainstTheSimulator(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 7, 0, 0, time.UTC)
	srv := sim.StartTest(t, sim.Config{Now: func() time.Time { return now }})
	store, _ := state.NewFileStore(t.TempDir())
	ms := &testkit.MemSink[sink.Batch]{}
	var emf bytes.Buffer
	cfg := collect.DefaultConfig()
	h := &Handler{Config: cfg, SecretID: "arn:secret", Secrets: &fakeSecrets{values: map[string][]byte{"arn:secret": srv.ConnectorJSON()}},
		Store: store, Sinks: []collect.Sink{ms}, EMF: &emf, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }}

	sum, err := h.Handle(context.Background(), json.RawMessage(`{"monitors":["hm","status"]}`))
	if err != nil || !sum.OK || len(sum.Monitors) != 2 || sum.Monitors[0].Windows != 12 {
		t.Fatalf("summary %+v, %v", sum, err)
	}
	if !strings.Contains(emf.String(), `"CalmCollector"`) || strings.Count(emf.String(), "\n") != 3 {
		t.Errorf("EMF lines:\n%s", emf.String())
	}
	c1, _ := h.client(context.Background(), "arn:secret")

	// A backfill leaves the checkpoints alone.
	cpBefore, _, _ := store.Get(context.Background(), "sim", "hm")
	sum, err = h.Handle(context.Background(), json.RawMessage(`{"backfill":{"from":"2026-11-25T06:00:00Z","to":"2026-11-25T07:00:00Z","monitors":["hm"]}}`))
	if err != nil || !sum.OK || sum.Mode != collect.ModeBackfill || sum.Monitors[0].Windows != 12 {
		t.Fatalf("backfill summary %+v, %v", sum, err)
	}
	if cp, _, _ := store.Get(context.Background(), "sim", "hm"); !cp.Next.Equal(cpBefore.Next) || !cp.UpdatedAt.Equal(cpBefore.UpdatedAt) {
		t.Errorf("backfill changed the checkpoint: %+v → %+v", cpBefore, cp)
	}
	if c2, _ := h.client(context.Background(), "arn:secret"); c2 != c1 {
		t.Error("the client was rebuilt although the secret did not change")
	}

	// A held lease: the summary says who holds it, and it is not an error.
	if _, err := store.Acquire(context.Background(), "sim", "another invocation", time.Hour); err != nil {
		t.Fatal(err)
	}
	sum, err = h.Handle(context.Background(), json.RawMessage(`{}`))
	if err != nil || !strings.Contains(sum.Skipped, "another invocation") {
		t.Errorf("held lease: %+v, %v", sum, err)
	}

	// A rotated secret builds a new client; when everything fails, Handle returns an error.
	h.Secrets.(*fakeSecrets).values["arn:secret"] = bytes.Replace(srv.ConnectorJSON(), []byte(sim.DefaultClientSecret), []byte("wrong"), 1)
	if c3, err := h.client(context.Background(), "arn:secret"); err != nil || c3 == c1 {
		t.Errorf("rotated secret: same client or %v", err)
	}
	store2, _ := state.NewFileStore(t.TempDir())
	h.Store = store2
	if _, err := h.Handle(context.Background(), json.RawMessage(`{"monitors":["hm"]}`)); err == nil {
		t.Error("a run where every monitor failed returned no error")
	} else if strings.Contains(err.Error(), "wrong") {
		t.Errorf("the error shows the secret: %v", err)
	}
}

func TestUnknownConnector(t *testing.T) {
	h := &Handler{SecretIDs: map[string]string{"a": "1", "b": "2"}}
	_, err := h.Handle(context.Background(), json.RawMessage(`{"connector":"c"}`))
	if err == nil || err.Error() != `connector: unknown connector "c"; CALM_SECRET_IDS has: a, b` {
		t.Errorf("err = %v", err)
	}
	_, err = h.Handle(context.Background(), json.RawMessage(`{}`))
	if err == nil || err.Error() != `connector: missing; CALM_SECRET_ID is not set, so name one of: a, b` {
		t.Errorf("err = %v", err)
	}
}

// cachedSecrets serves a stale cached value until Invalidate, like the Secrets Manager TTL cache
// right after a rotation.
type cachedSecrets struct {
	mu            sync.Mutex
	cached, store []byte
	invalidations int
}

func (c *cachedSecrets) Secret(context.Context, string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cached == nil {
		c.cached = c.store
	}
	return c.cached, nil
}

func (c *cachedSecrets) Invalidate(string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cached = nil
	c.invalidations++
}

// The client secret was rotated in BTP and in Secrets Manager, but the warm Lambda still has the
// old secret cached: the refused token makes the handler read the secret again, and the run
// succeeds without waiting for the cache's TTL.
func TestHandleRereadsTheSecretAfterARotation(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 7, 0, 0, time.UTC)
	srv := sim.StartTest(t, sim.Config{ClientSecret: "new-secret", Now: func() time.Time { return now }})
	current := srv.ConnectorJSON()
	old := bytes.Replace(current, []byte("new-secret"), []byte("old-secret"), 1)
	if bytes.Equal(old, current) {
		t.Fatal("the simulator's connector JSON does not hold its client secret")
	}
	secretsCache := &cachedSecrets{cached: old, store: current}
	store, _ := state.NewFileStore(t.TempDir())
	var logs bytes.Buffer
	h := &Handler{Config: collect.DefaultConfig(), SecretID: "arn:secret", Secrets: secretsCache,
		Store: store, Sinks: []collect.Sink{&testkit.MemSink[sink.Batch]{}}, Logger: slog.New(slog.NewTextHandler(&logs, nil)), Now: func() time.Time { return now }}

	sum, err := h.Handle(context.Background(), json.RawMessage(`{"monitors":["hm"]}`))
	if err != nil || !sum.OK {
		t.Fatalf("after a rotation: %+v, %v", sum, err)
	}
	if secretsCache.invalidations != 1 {
		t.Errorf("invalidations = %d, want 1", secretsCache.invalidations)
	}
	for _, secret := range []string{"old-secret", "new-secret"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log shows a client secret:\n%s", logs.String())
		}
	}
	// A second run uses the new secret from the cache: no further invalidation.
	if _, err := h.Handle(context.Background(), json.RawMessage(`{"monitors":["hm"]}`)); err != nil {
		t.Fatal(err)
	}
	if secretsCache.invalidations != 1 {
		t.Errorf("invalidations after a good run = %d, want 1", secretsCache.invalidations)
	}
}

// A service key stored as downloaded has no "name": the tenant is the connector's name from
// CALM_SECRET_IDS (the one the stack's alarms and dashboard use), not the host's first label.
func TestTenantIsTheConnectorNameWhenTheSecretHasNone(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 7, 0, 0, time.UTC)
	srv := sim.StartTest(t, sim.Config{Now: func() time.Time { return now }})
	if bytes.Contains(srv.ServiceKeyJSON(), []byte(`"name"`)) {
		t.Fatal("the simulator's service key has a name; the test needs one without")
	}
	store, _ := state.NewFileStore(t.TempDir())
	secrets := &fakeSecrets{values: map[string][]byte{"arn:a": srv.ServiceKeyJSON(), "arn:b": srv.ConnectorJSON()}}
	h := &Handler{Config: collect.DefaultConfig(), SecretIDs: map[string]string{"prod-eu10": "arn:a", "named": "arn:b"},
		Secrets: secrets, Store: store, Sinks: []collect.Sink{&testkit.MemSink[sink.Batch]{}}, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }}
	sum, err := h.Handle(context.Background(), json.RawMessage(`{"connector":"prod-eu10","monitors":["hm"]}`))
	if err != nil || sum.Tenant != "prod-eu10" {
		t.Errorf("tenant = %q (%v), want the connector name prod-eu10", sum.Tenant, err)
	}
	// A secret that names itself keeps its name.
	sum, err = h.Handle(context.Background(), json.RawMessage(`{"connector":"named","monitors":["hm"]}`))
	if err != nil || sum.Tenant != "sim" {
		t.Errorf("tenant = %q (%v), want the secret's own name sim", sum.Tenant, err)
	}
}

// TestInvocationNamesAMonitorGivenAsData: a backfill invocation may name a monitor given as data
// (CALM_EXTRA_MONITORS), which only the tenant's table knows; a name no table knows fails the
// run, named.
func TestInvocationNamesAMonitorGivenAsData(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 7, 0, 0, time.UTC)
	srv := sim.StartTest(t, sim.Config{Now: func() time.Time { return now }})
	store, _ := state.NewFileStore(t.TempDir())
	ms := &testkit.MemSink[sink.Batch]{}
	cfg, err := collect.ConfigFromEnv(func(k string) string {
		return map[string]string{"CALM_EXTRA_MONITORS": `[{"id":"kpi-orders","title":"Order KPIs","provider":"KPI_HISTORY_TOTALS",` +
			`"scope":"calm-api.bm.read","dimensions":["kpiId","kpiName","serviceId","serviceName"],"measures":[{"name":"kpiValue","method":"AVG"}]}]`}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	h := &Handler{Config: cfg, SecretID: "arn:secret", Secrets: &fakeSecrets{values: map[string][]byte{"arn:secret": srv.ConnectorJSON()}},
		Store: store, Sinks: []collect.Sink{ms}, EMF: io.Discard, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }}

	sum, err := h.Handle(context.Background(), json.RawMessage(`{"backfill":{"from":"2026-11-25T06:00:00Z","to":"2026-11-25T07:00:00Z","monitors":["kpi-orders"]}}`))
	if err != nil || !sum.OK || len(sum.Monitors) != 1 || sum.Monitors[0].Monitor != "kpi-orders" || sum.Monitors[0].Windows != 12 || sum.Monitors[0].Points == 0 {
		t.Fatalf("backfill of a monitor given as data: %+v, %v", sum, err)
	}
	delivered := 0
	for _, b := range ms.Batches() {
		if b.Monitor == "kpi-orders" {
			delivered += b.Len()
		}
	}
	if delivered != sum.Monitors[0].Points {
		t.Errorf("delivered %d records of kpi-orders, the summary says %d points", delivered, sum.Monitors[0].Points)
	}

	sum, err = h.Handle(context.Background(), json.RawMessage(`{"monitors":["kpi-returns"]}`))
	if err == nil || sum.OK || !strings.Contains(err.Error()+sum.Error, `"kpi-returns"`) {
		t.Errorf("a monitor no table knows: %+v, %v; want the run failed naming it", sum, err)
	}
}
