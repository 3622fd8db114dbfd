package main

import (
	"fmt"
	"strings"
	"testing"
)

// Each function's environment, resolved with the longest names the stack can get (a stack name
// of 128 characters, the aws-us-gov partition, full ARNs and queue URLs), stays under Lambda's
// 4 KB at 1 and at 1,000 connectors, with an OTLP sink, alert rules and existing secrets; every
// resolved variable stays within the bound synth checks (references at refAllowance each), so
// an environment synth accepts is one Lambda accepts. Too many existing secrets are refused at
// synth, naming existingSecretArns (docs/deploy.md, "The stack–function contract").
func TestEnvironmentSize(t *testing.T) {
	bootstraps, err := builtBootstraps()
	if err != nil {
		t.Fatal(err)
	}
	stack := "C" + strings.Repeat("x", 127)
	existing := func(n int) map[string]any {
		m := map[string]any{}
		for i := range n {
			m[fmt.Sprintf("tenant-%04d", i)] = fmt.Sprintf("arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:calm/existing/tenant-%04d-AbC%03d", i, i)
		}
		return m
	}
	context := func(connectors, existingSecrets int) map[string]any {
		names := make([]any, connectors)
		for i := range names {
			names[i] = fmt.Sprintf("tenant-%04d", i)
		}
		return map[string]any{keyStackName: stack, keyConnectors: names, keyExistingSecretArns: existing(existingSecrets),
			keySinks: []any{"stdout", "otlp+https://otlp-gateway-prod-eu-west-2.grafana.net/otlp"}, keyMonitors: "hm,status",
			keyAlertRules: testRules, keyAlertsToTopic: true}
	}
	for _, n := range []int{1, 1000} {
		t.Run(fmt.Sprintf("%d connectors", n), func(t *testing.T) {
			c := contractTemplate(t, bootstraps, context(n, min(n, 5)))
			if len(c.errs) > 0 {
				t.Fatalf("synthesis errors: %s", strings.Join(c.errs, "\n"))
			}
			a := newAccount("aws-us-gov", "us-gov-west-1", "123456789012", stack, c.tpl)
			for _, fn := range []string{collectLogicalID, testconnLogicalID} {
				env := a.functionEnv(t, fn)
				bound, each := envBound(a.resources[fn]["Properties"].(map[string]any)["Environment"].(map[string]any)["Variables"].(map[string]any))
				for k, v := range env {
					if len(v) > each[k] {
						t.Errorf("%s: %s resolves to %d bytes, over the %d synth allows for it: %s", fn, k, len(v), each[k], v)
					}
				}
				checkEnvSize(t, fn, env)
				t.Logf("%s: bound checked at synth %d bytes", fn, bound)
			}
		})
	}
	t.Run("too many existing secrets", func(t *testing.T) {
		errs := contractTemplate(t, bootstraps, context(40, 40)).errs
		if len(errs) != 2 {
			t.Fatalf("synthesis errors: %q, want one per function", errs)
		}
		for i, fn := range []string{"CollectFunction: its environment may take", "TestconnFunction: its environment may take"} {
			if !strings.Contains(errs[i], fn) || !strings.Contains(errs[i], "(context existingSecretArns)") ||
				!strings.Contains(errs[i], "Lambda refuses more than 4096") {
				t.Errorf("synthesis error %d: %s\nwant %s… naming CALM_SECRET_IDS and existingSecretArns", i, errs[i], fn)
			}
		}
		t.Log(errs[0])
	})
}
