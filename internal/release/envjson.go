package release

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// LocalOnly lists, per function (the start of its logical id), the variables it reads that the
// stack does not set: endpoints for moto and the loopback switch of local runs, and settings the
// stack leaves at their defaults. env.json lists them empty, so every variable a function reads
// is in one place (infra/cdk's TestEnvJSON holds the list to the functions' source).
var LocalOnly = map[string][]string{
	"Collect": {"AWS_ENDPOINT_URL_S3", "CALM_ALERT_RULES", "CALM_API_QUOTA_GB", "CALM_ARCHIVE_TABLE", "CALM_CONCURRENCY",
		"CALM_DEADLINE_MARGIN", "CALM_ENDPOINT_URL", "CALM_EVENT_BUS", "CALM_EXTRA_MONITORS", "CALM_EVENT_LOOKBACK", "CALM_LAG",
		"CALM_LOOKBACK", "CALM_MAX_CATCHUP", "CALM_OTLP_ALLOW_PARTIAL", "CALM_OTLP_HEADERS",
		"CALM_OTLP_HEADERS_SECRET", "CALM_RESOLUTION", "CALM_SECRET_IDS", "CALM_SECRET_TTL", "CALM_SETTLE", "CALM_SPAN"},
	"Testconn": {"CALM_API_QUOTA_GB", "CALM_ENDPOINT_URL", "CALM_EXTRA_MONITORS", "CALM_SECRET_IDS", "CALM_SECRET_TTL", "CALM_SECRETS_KMS_KEY", "CALM_TESTCONN_ALLOWED_HOSTS",
		"CALM_TESTCONN_ALLOW_LOOPBACK"},
}

// EnvJSON returns the env.json of `sam local invoke --env-vars` for the template's Lambda
// functions whose logical id starts with a key of localOnly: each variable the stack sets (a
// literal as it is, a reference as a <placeholder> naming what to put there) and each of
// localOnly's names the stack leaves unset, empty.
func EnvJSON(tpl map[string]any, localOnly map[string][]string) ([]byte, error) {
	resources, _ := tpl["Resources"].(map[string]any)
	out := map[string]map[string]string{}
	for _, id := range slices.Sorted(maps.Keys(resources)) {
		r, _ := resources[id].(map[string]any)
		if r["Type"] != "AWS::Lambda::Function" {
			continue
		}
		var names []string
		for prefix, ns := range localOnly {
			if strings.HasPrefix(id, prefix) {
				names = ns
			}
		}
		if names == nil {
			continue
		}
		props, _ := r["Properties"].(map[string]any)
		env, _ := props["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		fn := map[string]string{}
		for k, v := range vars {
			fn[k] = placeholder(v)
		}
		for _, k := range names {
			if _, set := fn[k]; !set {
				fn[k] = ""
			}
		}
		out[id] = fn
	}
	if len(out) != len(localOnly) {
		return nil, fmt.Errorf("found %d of the %d functions in the template", len(out), len(localOnly))
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // the placeholders' < and > as they are
	enc.SetIndent("", "  ")
	err := enc.Encode(out)
	return buf.Bytes(), err
}

// placeholder is a variable's value for env.json: a string as it is; a reference as <Ref X> or
// <X.Attribute>, for the deployed resource's physical id or attribute (aws cloudformation
// describe-stack-resources lists them).
func placeholder(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if r, ok := x["Ref"].(string); ok {
			return "<Ref " + r + ">"
		}
		if a, ok := x["Fn::GetAtt"].([]any); ok && len(a) == 2 {
			return fmt.Sprintf("<%v.%v>", a[0], a[1])
		}
		if j, ok := x["Fn::Join"].([]any); ok && len(j) == 2 {
			sep, _ := j[0].(string)
			parts, _ := j[1].([]any)
			s := make([]string, len(parts))
			for i, p := range parts {
				s[i] = placeholder(p)
			}
			return strings.Join(s, sep)
		}
	}
	b, _ := json.Marshal(v)
	return "<" + string(b) + ">"
}
