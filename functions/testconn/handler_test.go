package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/calm-collector/calm-collector/internal/awstest"
	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/conntest"
	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/secrets"
	"github.com/calm-collector/calm-collector/internal/sim"
)

// TestMain stops the shared moto_server after the tests.
func TestMain(m *testing.M) { awstest.Main(m) }

const simSecret = "handler-sim-secret-4711"

const placeholder = `{"name":"prod","placeholder":"fill in with the BTP service key or connector fields; see README"}`

// env is one handler under test: a simulator, a secret in moto and the handler reading it.
type env struct {
	sim      *sim.Server
	sm       *secretsmanager.Client
	secretID string
	h        *Handler
	logs     *bytes.Buffer
}

func newEnv(t *testing.T, stored []byte, allow conntest.Allowlist) *env {
	t.Helper()
	moto := awstest.Moto(t)
	s := sim.StartTest(t, sim.Config{ClientSecret: simSecret})
	if stored == nil {
		stored = s.ConnectorJSON()
	}
	sm := moto.SecretsClient()
	id := "calm/testconn/" + strings.NewReplacer("/", "-", " ", "-").Replace(t.Name()) + "-" + time.Now().Format("150405.000000")
	if _, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: aws.String(id), SecretString: aws.String(string(stored))}); err != nil {
		t.Fatalf("create secret in moto: %v", err)
	}
	logs := &bytes.Buffer{}
	h := &Handler{
		Stores:   map[string]Store{"": secrets.SecretsManager(sm, id, secrets.DefaultTTL)},
		Allow:    allow,
		Monitors: []string{"hm", "jam"},
		Timeout:  10 * time.Second,
		Logger:   slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	return &env{sim: s, sm: sm, secretID: id, h: h, logs: logs}
}

func (e *env) stored(t *testing.T) string {
	t.Helper()
	out, err := e.sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(e.secretID)})
	if err != nil {
		t.Fatal(err)
	}
	return *out.SecretString
}

func request(method, query, body string, b64 bool) events.LambdaFunctionURLRequest {
	return events.LambdaFunctionURLRequest{
		Version: "2.0", RawPath: "/", RawQueryString: query, Body: body, IsBase64Encoded: b64,
		Headers: map[string]string{"content-type": "application/json"},
		RequestContext: events.LambdaFunctionURLRequestContext{
			HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: method, Path: "/"}},
	}
}

type answer struct {
	conntest.Report
	Saved *bool  `json:"saved"`
	Error string `json:"error"`
}

func loopbackAllowed() conntest.Allowlist {
	a, _ := conntest.ParseAllowlist("", true)
	return a
}

func TestHandle(t *testing.T) {
	wrongSecret := func(e *env) string {
		var m map[string]string
		if err := json.Unmarshal(e.sim.ConnectorJSON(), &m); err != nil {
			panic(err) // the simulator's own connector JSON
		}
		m["clientSecret"] = "wrong-secret-value"
		b, _ := json.Marshal(m)
		return string(b)
	}
	noLoopback, _ := conntest.ParseAllowlist("", false)
	cases := []struct {
		name    string
		stored  string // "" = the simulator's connector JSON
		allow   conntest.Allowlist
		req     func(e *env) events.LambdaFunctionURLRequest
		status  int
		ok      bool
		saved   string // "", "true", "false"
		errPart string
		check   func(t *testing.T, e *env, a answer)
	}{
		{name: "GET pass", req: func(e *env) events.LambdaFunctionURLRequest { return request("GET", "", "", false) }, status: 200, ok: true},
		{name: "GET placeholder", stored: placeholder,
			req:    func(e *env) events.LambdaFunctionURLRequest { return request("GET", "", "", false) },
			status: 200, ok: false,
			check: func(t *testing.T, e *env, a answer) {
				if s, _ := a.Check("settings"); s.Status != conntest.Fail || !strings.Contains(s.Detail, "not filled in yet") {
					t.Errorf("settings = %+v", s)
				}
			}},
		{name: "POST pass", stored: placeholder,
			req: func(e *env) events.LambdaFunctionURLRequest {
				return request("POST", "", string(e.sim.ConnectorJSON()), false)
			},
			status: 200, ok: true,
			check: func(t *testing.T, e *env, a answer) {
				if e.stored(t) != placeholder {
					t.Error("a POST without save changed the secret")
				}
			}},
		{name: "POST base64 body", stored: placeholder,
			req: func(e *env) events.LambdaFunctionURLRequest {
				return request("POST", "", base64.StdEncoding.EncodeToString(e.sim.ServiceKeyJSON()), true)
			},
			status: 200, ok: true},
		{name: "POST save pass", stored: placeholder,
			req: func(e *env) events.LambdaFunctionURLRequest {
				return request("POST", "save=true", string(e.sim.ServiceKeyJSON()), false)
			},
			status: 200, ok: true, saved: "true",
			check: func(t *testing.T, e *env, a answer) {
				// The service key is stored in connector form, normalised, with the real secret.
				s, _, err := calm.ParseSettings(e.sim.ServiceKeyJSON())
				if err != nil {
					t.Fatal(err)
				}
				want, _ := s.MarshalConnector()
				if got := e.stored(t); got != string(want) {
					t.Errorf("stored secret = %s, want %s", got, want)
				}
				if !strings.Contains(e.stored(t), simSecret) || strings.Contains(e.stored(t), "/api") {
					t.Errorf("stored secret is not the normalised connector form: %s", e.stored(t))
				}
			}},
		{name: "POST save failing", stored: placeholder,
			req: func(e *env) events.LambdaFunctionURLRequest {
				return request("POST", "save=true", wrongSecret(e), false)
			},
			status: 422, ok: false, saved: "false", errPart: "not saved",
			check: func(t *testing.T, e *env, a answer) {
				if e.stored(t) != placeholder {
					t.Errorf("a failed test changed the secret: %s", e.stored(t))
				}
				if tok, _ := a.Check("token"); tok.Status != conntest.Fail {
					t.Errorf("token = %+v", tok)
				}
			}},
		{name: "malformed body", req: func(e *env) events.LambdaFunctionURLRequest { return request("POST", "", `{"clientId": "x",`, false) },
			status: 400, errPart: "the body is not valid JSON"},
		{name: "empty body", req: func(e *env) events.LambdaFunctionURLRequest { return request("POST", "", "  ", false) },
			status: 400, errPart: "the body is empty"},
		{name: "array body", req: func(e *env) events.LambdaFunctionURLRequest { return request("POST", "", `[1]`, false) },
			status: 400, errPart: "not an object"},
		{name: "bad base64", req: func(e *env) events.LambdaFunctionURLRequest { return request("POST", "", "%%%", true) },
			status: 400, errPart: "base64"},
		{name: "1 MiB body", req: func(e *env) events.LambdaFunctionURLRequest {
			return request("POST", "", `{"name":"`+strings.Repeat("x", 1<<20)+`"}`, false)
		}, status: 413, errPart: "larger than 64 KiB"},
		{name: "1 MiB base64 body", req: func(e *env) events.LambdaFunctionURLRequest {
			return request("POST", "", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("x"), 1<<20)), true)
		}, status: 413, errPart: "larger than 64 KiB"},
		{name: "disallowed host", allow: noLoopback,
			req: func(e *env) events.LambdaFunctionURLRequest {
				return request("POST", "", string(e.sim.ConnectorJSON()), false)
			},
			status: 200, ok: false,
			check: func(t *testing.T, e *env, a answer) {
				s, _ := a.Check("settings")
				if s.Status != conntest.Fail || !strings.Contains(s.Detail, "loopback") || !strings.Contains(s.Hint, "<region>.alm.cloud.sap") {
					t.Errorf("settings = %+v", s)
				}
				if r, _ := a.Check("reach"); r.Status != conntest.Skip {
					t.Errorf("reach = %+v: nothing may be contacted", r)
				}
				if n := e.sim.Requests()["/oauth/token"]; n != 0 {
					t.Errorf("the simulator got %d token requests", n)
				}
			}},
		{name: "disallowed host save", allow: noLoopback, stored: placeholder,
			req: func(e *env) events.LambdaFunctionURLRequest {
				return request("POST", "save=true", string(e.sim.ConnectorJSON()), false)
			},
			status: 422, ok: false, saved: "false", errPart: "not saved"},
		{name: "GET save", req: func(e *env) events.LambdaFunctionURLRequest { return request("GET", "save=true", "", false) },
			status: 400, errPart: "needs a POST"},
		{name: "bad save value", req: func(e *env) events.LambdaFunctionURLRequest { return request("POST", "save=maybe", "{}", false) },
			status: 400, errPart: "must be true or false"},
		{name: "PUT", req: func(e *env) events.LambdaFunctionURLRequest { return request("PUT", "", "{}", false) },
			status: 405, errPart: "method PUT is not allowed"},
		{name: "unknown connector", req: func(e *env) events.LambdaFunctionURLRequest { return request("GET", "connector=nope", "", false) },
			status: 404, errPart: `unknown connector "nope"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stored []byte
			if c.stored != "" {
				stored = []byte(c.stored)
			}
			allow := c.allow
			if allow.Patterns == nil {
				allow = loopbackAllowed()
			}
			e := newEnv(t, stored, allow)
			resp, err := e.h.Handle(context.Background(), c.req(e))
			if err != nil {
				t.Fatalf("Handle returned an error: %v", err)
			}
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, resp.Body)
			}
			if ct := resp.Headers["Content-Type"]; ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			var a answer
			if err := json.Unmarshal([]byte(resp.Body), &a); err != nil {
				t.Fatalf("body is not JSON: %v: %s", err, resp.Body)
			}
			switch {
			case c.errPart == "" && a.Error != "":
				t.Errorf("error = %q, want none", a.Error)
			case !strings.Contains(a.Error, c.errPart):
				t.Errorf("error = %q, want it to contain %q", a.Error, c.errPart)
			}
			if c.status == 200 || c.status == 422 {
				if a.OK != c.ok || a.Checks == nil {
					t.Errorf("ok = %v, want %v: %s", a.OK, c.ok, resp.Body)
				}
				if c.ok {
					for _, ch := range a.Checks {
						settingsWarning := ch.ID == "settings" && ch.Status == conntest.Warn
						if ch.Status != conntest.Pass && !settingsWarning {
							t.Errorf("check %s = %s: %s", ch.ID, ch.Status, ch.Detail)
						}
					}
				}
			}
			switch got := a.Saved; {
			case c.saved == "" && got != nil:
				t.Errorf("saved = %v, want absent", *got)
			case c.saved != "" && (got == nil || *got != (c.saved == "true")):
				t.Errorf("saved = %v, want %s", got, c.saved)
			}
			if c.check != nil {
				c.check(t, e, a)
			}
			// Neither the answer nor the logs carry the secret.
			for what, s := range map[string]string{"response": resp.Body, "logs": e.logs.String()} {
				if strings.Contains(s, simSecret) || strings.Contains(s, "wrong-secret-value") {
					t.Errorf("the %s contain a client secret:\n%s", what, s)
				}
			}
		})
	}
}

// A token failure may be a rotated secret: the cache is dropped and the test runs once more.
func TestHandleRereadsRotatedSecret(t *testing.T) {
	var m map[string]string
	e := newEnv(t, []byte(`{}`), loopbackAllowed())
	if err := json.Unmarshal(e.sim.ConnectorJSON(), &m); err != nil {
		t.Fatal(err)
	}
	m["clientSecret"] = "the-old-rotated-secret"
	old, _ := json.Marshal(m)
	put := func(v []byte) {
		if _, err := e.sm.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
			SecretId: aws.String(e.secretID), SecretString: aws.String(string(v))}); err != nil {
			t.Fatal(err)
		}
	}
	// The function read the old secret (and caches it for the TTL); then the secret is rotated.
	put(old)
	if _, err := e.h.Stores[""].Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	put(e.sim.ConnectorJSON())

	resp, _ := e.h.Handle(context.Background(), request("GET", "", "", false))
	var a answer
	if err := json.Unmarshal([]byte(resp.Body), &a); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !a.OK {
		t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
	}
	if n := e.sim.Requests()["/oauth/token"]; n != 2 {
		t.Errorf("token requests = %d, want 2 (the cached secret, then the fresh one)", n)
	}
	if !strings.Contains(e.logs.String(), "re-reading the secret") {
		t.Errorf("logs do not say the secret was re-read:\n%s", e.logs)
	}
}

func TestHandleUnreadableSecret(t *testing.T) {
	e := newEnv(t, nil, loopbackAllowed())
	e.h.Stores[""] = secrets.SecretsManager(e.sm, "calm/does-not-exist", time.Minute)
	resp, _ := e.h.Handle(context.Background(), request("GET", "", "", false))
	var a answer
	if err := json.Unmarshal([]byte(resp.Body), &a); err != nil {
		t.Fatal(err)
	}
	s, _ := a.Check("settings")
	if resp.StatusCode != 200 || a.OK || s.Status != conntest.Fail || !strings.Contains(s.Detail, "calm/does-not-exist") ||
		!strings.Contains(s.Hint, "secretsmanager:GetSecretValue") {
		t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
	}
	if r, _ := a.Check("reach"); r.Status != conntest.Skip {
		t.Errorf("reach = %+v", r)
	}
}

func TestLoadConfig(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	c, err := LoadConfig(env(map[string]string{"CALM_SECRET_ID": "arn:x"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.SecretTTL != 5*time.Minute || c.Allow.Loopback || strings.Join(c.Allow.Patterns, ",") != conntest.DefaultAllowedHosts ||
		!slices.Equal(c.Monitors, monitor.Defaults()) || c.QuotaBytes != 24_000_000_000 {
		t.Errorf("defaults = %+v", c)
	}
	if c, err := LoadConfig(env(map[string]string{"CALM_SECRET_ID": "arn:x", "CALM_API_QUOTA_GB": "48.5"})); err != nil || c.QuotaBytes != 48_500_000_000 {
		t.Errorf("CALM_API_QUOTA_GB=48.5: %d, %v", c.QuotaBytes, err)
	}
	c, err = LoadConfig(env(map[string]string{"CALM_SECRET_ID": "arn:x", "CALM_MONITORS": "all"}))
	if err != nil || !slices.Equal(c.Monitors, monitor.IDs()) {
		t.Errorf("CALM_MONITORS=all: %v, %v; want every monitor", c.Monitors, err)
	}
	_, err = LoadConfig(env(map[string]string{
		"CALM_SECRET_IDS":              `{"a":`,
		"CALM_SECRET_TTL":              "soon",
		"CALM_TESTCONN_ALLOW_LOOPBACK": "perhaps",
		"CALM_TESTCONN_ALLOWED_HOSTS":  "https://x",
		"CALM_MONITORS":                "hm,nope",
		"CALM_API_QUOTA_GB":            "lots",
	}))
	if err == nil {
		t.Fatal("bad environment accepted")
	}
	for _, v := range []string{"CALM_SECRET_IDS", "CALM_SECRET_ID:", "CALM_SECRET_TTL", "CALM_TESTCONN_ALLOW_LOOPBACK", "CALM_TESTCONN_ALLOWED_HOSTS", "CALM_MONITORS", "CALM_API_QUOTA_GB"} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("error does not name %s: %v", v, err)
		}
	}
}

// A test that runs into the invocation's deadline still answers, with the cut-short check failed.
func TestHandleDeadline(t *testing.T) {
	e := newEnv(t, nil, loopbackAllowed())
	e.sim.SetFaults(sim.Faults{Slow: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), deadlineMargin+500*time.Millisecond)
	defer cancel()
	resp, err := e.h.Handle(ctx, request("GET", "", "", false))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, err %v", resp.StatusCode, err)
	}
	var a answer
	if err := json.Unmarshal([]byte(resp.Body), &a); err != nil {
		t.Fatal(err)
	}
	if a.OK {
		t.Fatalf("a cut-short test passed: %s", resp.Body)
	}
	if api, _ := a.Check("api"); api.Status != conntest.Fail {
		t.Errorf("api = %+v, want fail (cut short by the deadline)", api)
	}
}

// "Save and test" of a service key as downloaded (no "name") stores it under the connector's
// name — the tenant the stack's alarms watch — whether the connector is named in the query or is
// the default one, and the answer says so. Settings that name themselves differently would
// collect as another tenant (its checkpoints and lease): refused with 409 naming both, also with
// replace=true (fleet.BindName, the check calmctl connector add makes too).
// A save may not re-host a stored connector: settings for another API host are refused with
// both hosts named, unless replace=true.
func TestSaveCannotRehostAConnector(t *testing.T) {
	e := newEnv(t, []byte(`{"name":"prod-eu10","placeholder":"fill me"}`), loopbackAllowed())
	if resp, _ := e.h.Handle(context.Background(), request("POST", "save=true", string(e.sim.ConnectorJSON()), false)); resp.StatusCode != 200 {
		t.Fatalf("first save: %d %s", resp.StatusCode, resp.Body)
	}
	other := sim.StartTest(t, sim.Config{})
	before := e.stored(t)
	resp, _ := e.h.Handle(context.Background(), request("POST", "save=true", string(other.ConnectorJSON()), false))
	if resp.StatusCode != 409 || !strings.Contains(resp.Body, "the settings point at the API host "+other.URL()+`, but connector \"sim\" collects from `+e.sim.URL()) {
		t.Errorf("re-host: %d %s; want 409 naming both hosts", resp.StatusCode, resp.Body)
	}
	if e.stored(t) != before {
		t.Errorf("the refused save changed the stored secret")
	}
	if resp, _ := e.h.Handle(context.Background(), request("POST", "save=true&replace=true", string(other.ConnectorJSON()), false)); resp.StatusCode != 200 {
		t.Errorf("re-host with replace=true: %d %s", resp.StatusCode, resp.Body)
	}
}

func TestSaveNamesTheTenantAfterTheConnector(t *testing.T) {
	e := newEnv(t, []byte(`{"name":"prod-eu10","placeholder":"fill me"}`), loopbackAllowed())
	e.h.Stores["prod-eu10"] = e.h.Stores[""]
	e.h.DefaultConnector = "prod-eu10"
	for _, tc := range []struct {
		query  string
		body   []byte
		status int
		want   string
	}{
		{"save=true&connector=prod-eu10", e.sim.ServiceKeyJSON(), 200, "prod-eu10"},
		{"save=true", e.sim.ServiceKeyJSON(), 200, "prod-eu10"},
		{"save=true", e.sim.ConnectorJSON(), 409, "prod-eu10"},
		{"save=true&connector=prod-eu10", e.sim.ConnectorJSON(), 409, "prod-eu10"},
		{"save=true&replace=true", e.sim.ConnectorJSON(), 409, "prod-eu10"},
		{"save=true&connector=prod-eu10&replace=true", e.sim.ConnectorJSON(), 409, "prod-eu10"},
	} {
		resp, err := e.h.Handle(context.Background(), request("POST", tc.query, string(tc.body), false))
		if err != nil || resp.StatusCode != tc.status {
			t.Fatalf("%s: status %d, %v: %s; want %d", tc.query, resp.StatusCode, err, resp.Body, tc.status)
		}
		if tc.status == 409 && !strings.Contains(resp.Body, `not saved: connector \"prod-eu10\": the settings name the tenant \"sim\"`) {
			t.Errorf("%s: the refusal does not name both: %s", tc.query, resp.Body)
		}
		if tc.status == 200 && !strings.Contains(resp.Body, `stored as \"prod-eu10\", the connector's name`) {
			t.Errorf("%s: the answer does not say the settings were named after the connector: %s", tc.query, resp.Body)
		}
		s, _, err := calm.ParseSettings([]byte(e.stored(t)))
		if err != nil || s.Name != tc.want {
			t.Errorf("%s: stored name %q (%v), want %q", tc.query, s.Name, err, tc.want)
		}
	}
}
