package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
)

// The functions' rules applied at synth to what the stack writes into their environment, so that
// a stack setting a function would refuse is refused by `cdk synth` with the same message
// (docs/deploy.md, "The stack–function contract").

// monitorItems splits a monitors setting as the functions split CALM_MONITORS: blanks trimmed,
// empty items and repeats dropped.
func monitorItems(setting string) []string {
	var out []string
	for item := range strings.SplitSeq(setting, ",") {
		if item = strings.TrimSpace(item); item != "" && !slices.Contains(out, item) {
			out = append(out, item)
		}
	}
	return out
}

// Lambda refuses a function whose environment, the variables as a JSON object, is over 4 KB.
const (
	maxEnvironmentBytes = 4096
	// refAllowance is the most one reference to a stack resource (Ref, Fn::GetAtt) takes once
	// resolved: DynamoDB allows 255 characters for a table name, and a queue URL, secret ARN or
	// bucket name of this stack is shorter. The contract test holds every resolved reference to it.
	refAllowance = 256
)

// envBound is the most an environment as the template writes it (strings and intrinsic
// functions) can take once resolved: every reference counted at refAllowance, as the JSON object
// of the variables. It also returns the bound of each variable.
func envBound(vars map[string]any) (int, map[string]int) {
	flat := map[string]string{}
	each := map[string]int{}
	for k, v := range vars {
		flat[k] = boundText(v)
		each[k] = len(flat[k])
	}
	b, _ := json.Marshal(flat)
	return len(b), each
}

// boundText stands in for a template value: literal text as is, refAllowance bytes for each
// reference (Ref, Fn::GetAtt, or any other function but Fn::Join, whose parts are walked).
func boundText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case map[string]any:
		if parts, ok := v["Fn::Join"].([]any); ok && len(parts) == 2 {
			sep, _ := parts[0].(string)
			list, _ := parts[1].([]any)
			out := make([]string, len(list))
			for i, e := range list {
				out[i] = boundText(e)
			}
			return strings.Join(out, sep)
		}
		return strings.Repeat("x", refAllowance)
	default:
		return fmt.Sprint(v)
	}
}

// environmentProblems names each Lambda function of the template whose environment may resolve
// to more than Lambda's 4 KB, with its largest variables and the context keys that fill them.
// `make synth` fails on them as on an error annotation.
func environmentProblems(tpl map[string]any, cfg Config) []string {
	resources, _ := tpl["Resources"].(map[string]any)
	var out []string
	for _, id := range slices.Sorted(maps.Keys(resources)) {
		r, _ := resources[id].(map[string]any)
		if r["Type"] != "AWS::Lambda::Function" {
			continue
		}
		props, _ := r["Properties"].(map[string]any)
		envProp, _ := props["Environment"].(map[string]any)
		vars, _ := envProp["Variables"].(map[string]any)
		total, each := envBound(vars)
		if total <= maxEnvironmentBytes {
			continue
		}
		names := slices.Sorted(maps.Keys(each))
		slices.SortStableFunc(names, func(a, b string) int { return each[b] - each[a] })
		var parts []string
		for _, n := range names[:min(3, len(names))] {
			parts = append(parts, fmt.Sprintf("%s %d bytes%s", n, each[n], envSources[n]))
		}
		out = append(out, fmt.Sprintf("%s: its environment may take %d bytes once resolved "+
			"(each reference to a stack resource counted at %d); Lambda refuses more than %d. Largest: %s. "+
			"Name fewer existingSecretArns (a secret named %s<name> is found without one: calmctl connector add) or shorten alertRules",
			id, total, refAllowance, maxEnvironmentBytes, strings.Join(parts, ", "), connectorPrefix(cfg)))
	}
	return out
}

// stackProblems is what `make synth` refuses in a synthesized stack: the error annotations
// (cdk-nag findings among them) and environments over Lambda's limit.
func stackProblems(app awscdk.App, tpl map[string]any, cfg Config) []string {
	return append(synthErrors(app), environmentProblems(tpl, cfg)...)
}

// envSources names the context key a variable is written from, where one is.
var envSources = map[string]string{
	"CALM_SECRET_IDS":     " (context existingSecretArns)",
	"CALM_ALERT_RULES":    " (context alertRules)",
	"CALM_SINKS":          " (context sinks)",
	"CALM_MONITORS":       " (context monitors)",
	"CALM_EXTRA_MONITORS": " (context extraMonitors)",
}
