package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A stack setting that a function would refuse is refused at synth with the same message
// (docs/deploy.md, "The stack–function contract"). Each case is a context value and the
// variable the stack would write from it; the built bootstraps are started with that variable
// (on an environment they otherwise accept) and must refuse it at cold start, and
// ConfigFromContext must refuse the context value naming each of the same problems in the same
// words, after the name of the variable or of the context key.
//
// The stack writes the other variables the functions check from values it has checked or made
// itself: CALM_SECRET_ID and CALM_SECRET_IDS from validated connector names and complete secret
// ARNs, CALM_CONNECTOR_PREFIX (always ending in '/'), CALM_SCHEDULE_PERIOD from a schedule
// checked to run every 1 minute to 1 day, CALM_STATE_TABLE, CALM_QUEUE_URL and CALM_EVENT_BUS
// from its own resources.
func TestStackRefusesWhatFunctionsRefuse(t *testing.T) {
	bootstraps, err := builtBootstraps()
	if err != nil {
		t.Fatal(err)
	}
	both := []string{"collect", "testconn"}
	cases := []struct {
		name    string
		key     string
		value   any    // the context value
		env     string // the variable the stack writes from it
		written string // what it writes
		readers []string
	}{
		{"unknown monitor", keyMonitors, "hm,bogus", "CALM_MONITORS", "hm,bogus", both},
		{"monitors mixed with all", keyMonitors, []any{"all", "hm"}, "CALM_MONITORS", "all,hm", both},
		{"every monitor problem", keyMonitors, "auto,hm,nope,zzz", "CALM_MONITORS", "auto,hm,nope,zzz", both},
		{"file sink", keySinks, []any{"stdout", "file:/tmp/records.ndjson"}, "CALM_SINKS", "stdout,file:/tmp/records.ndjson", []string{"collect"}},
		{"plain http OTLP", keySinks, "otlp+http://otel.example.com:4318", "CALM_SINKS", "otlp+http://otel.example.com:4318", []string{"collect"}},
		{"sink twice", keySinks, "stdout,stdout,ftp://host/x", "CALM_SINKS", "stdout,stdout,ftp://host/x", []string{"collect"}},
		{"quota zero", keyAPIQuotaGB, 0.0, "CALM_API_QUOTA_GB", "0", both},
		{"quota negative", keyAPIQuotaGB, -1.5, "CALM_API_QUOTA_GB", "-1.5", both},
		{"quota too large", keyAPIQuotaGB, 2e9, "CALM_API_QUOTA_GB", "2000000000", both},
		{"bad extra monitor", keyExtraMonitors, badExtraMonitor, "CALM_EXTRA_MONITORS", badExtraMonitor, both},
		{"monitor of no definition", keyMonitors, "hm,kpi-orders", "CALM_MONITORS", "hm,kpi-orders", both},
		{"bad alert rule", keyAlertRules, `[{"name":"a","monitor":"hm","metric":"m","op":"=>"}]`, "CALM_ALERT_RULES",
			`[{"name":"a","monitor":"hm","metric":"m","op":"=>"}]`, []string{"collect"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := map[string]any{c.key: c.value}
			if c.key == keySinks {
				ctx[keyArchive] = false // the archive's s3:// sink would be written after them
			}
			_, err := ConfigFromContext(ctxOf(ctx))
			if err == nil {
				t.Fatalf("context %s=%v: synth accepts it", c.key, c.value)
			}
			stack := messages(err.Error(), `context "`+c.key+`": `)
			for _, fn := range c.readers {
				refusal := coldStart(t, filepath.Join(bootstraps, fn, "bootstrap"), c.env+"="+c.written)
				got := messages(refusal, c.env+": ")
				if len(got) == 0 {
					t.Errorf("%s does not refuse %s=%s: %s", fn, c.env, c.written, refusal)
					continue
				}
				// The stack may refuse more (a stack-only rule, or a repeat the function drops);
				// every problem the function names, it names in the same words.
				if slices.ContainsFunc(got, func(m string) bool { return !slices.Contains(stack, m) }) {
					t.Errorf("%s=%s\n%s refuses:\n  %s\nthe stack refuses %s=%v:\n  %s", c.env, c.written, fn,
						strings.Join(got, "\n  "), c.key, c.value, strings.Join(stack, "\n  "))
				}
			}
		})
	}
}

// badExtraMonitor is a monitor definition with two problems: a method SAP does not offer and no
// dimensions.
const badExtraMonitor = `[{"id":"kpi-x","provider":"KPI_HISTORY_TOTALS","scope":"calm-api.bm.read","dimensions":[],"measures":[{"name":"kpiValue","method":"MEDIAN"}]}]`

// goodEnv is an environment both functions accept at cold start, before the variable a case
// changes.
var goodEnv = []string{
	"AWS_LAMBDA_LOG_FORMAT=JSON", "AWS_REGION=us-east-1",
	"CALM_SECRET_ID=calm-collector/Contract/connectors/default", "CALM_CONNECTOR_PREFIX=calm-collector/Contract/connectors/",
	"CALM_STATE_TABLE=Contract-StateTable", "CALM_SINKS=stdout", "CALM_EVENT_BUS=calm-collector-Contract",
}

// coldStart runs a bootstrap with goodEnv plus change (no runtime API: only its cold start) and
// returns the error its log reports; it fails the test unless the bootstrap exits with status 1.
func coldStart(t *testing.T, bootstrap, change string) string {
	t.Helper()
	cmd := exec.Command(bootstrap)
	cmd.Env = append(append([]string{"PATH=" + os.Getenv("PATH")}, goodEnv...), change)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("%s with %s: exit %v, want status 1\n%s", filepath.Base(filepath.Dir(bootstrap)), change, err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil {
			if e, ok := rec["err"].(string); ok {
				return e
			}
		}
	}
	t.Fatalf("no error in the log:\n%s", out)
	return ""
}

// messages are the problems a joined error names after prefix: each line that starts with it,
// and the lines that follow one without naming another variable or key.
func messages(err, prefix string) []string {
	var out []string
	in := false
	for _, line := range strings.Split(err, "\n") {
		switch rest, ok := strings.CutPrefix(line, prefix); {
		case ok:
			out, in = append(out, rest), true
		case in && !strings.HasPrefix(line, "CALM_") && !strings.HasPrefix(line, "context \""):
			out = append(out, line)
		default:
			in = false
		}
	}
	slices.Sort(out)
	return out
}
