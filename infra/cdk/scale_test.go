package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calm-collector/calm-collector/internal/testkit"
)

// AWS limits a stack must stay under (CloudFormation, Lambda, IAM and CloudWatch quotas).
const (
	maxResources      = 500                 // resources per stack (nested stacks count on their own)
	maxOutputs        = 200                 // outputs per stack
	maxTemplateBytes  = 1 << 20             // template uploaded through S3
	maxEnvBytes       = maxEnvironmentBytes // a function's environment (envrules.go)
	maxRolePolicy     = 10240               // inline policies of one role, characters without white space
	maxDashboardItems = 500                 // widgets per dashboard
)

// The stack for 1 and for 1,000 connectors stays under every AWS limit that applies, with a
// fixed number of alarms and dashboard widgets, cdk-nag and cfn-lint clean. The connector secrets
// of the context go into nested stacks beyond inlineSecrets.
func TestScaleLimits(t *testing.T) {
	var alarms, widgets []int
	for _, n := range []int{1, 1000} {
		t.Run(fmt.Sprintf("%d connectors", n), func(t *testing.T) {
			names := make([]any, n)
			for i := range names {
				names[i] = fmt.Sprintf("tenant-%04d", i)
			}
			s := synth(t, map[string]any{keyConnectors: names, keySinks: "stdout,otlp+https://otel.example.com"})
			nagClean(t, s)
			var dir string
			check(t, "synth", func() { dir = *s.app.Synth(nil).Directory() })
			templates, _ := filepath.Glob(filepath.Join(dir, "*.template.json"))
			if len(templates) == 0 {
				t.Fatal("no template written")
			}
			secrets := 0
			for _, path := range templates {
				secrets += checkTemplate(t, path)
			}
			if secrets != n {
				t.Errorf("%d connector secrets in all templates, want %d", secrets, n)
			}
			for _, fn := range s.resources("AWS::Lambda::Function") {
				vars, _ := json.Marshal(fn["Properties"].(map[string]any)["Environment"])
				if len(vars) > maxEnvBytes/2 { // tokens still unresolved: leave room for the resolved ARNs
					t.Errorf("environment of %v is %d bytes as written (limit %d resolved)", fn["Properties"].(map[string]any)["Description"], len(vars), maxEnvBytes)
				}
			}
			for id, p := range s.resources("AWS::IAM::Policy") {
				doc, _ := json.Marshal(p["Properties"].(map[string]any)["PolicyDocument"])
				if len(doc) > maxRolePolicy {
					t.Errorf("policy %s is %d characters (limit %d per role)", id, len(doc), maxRolePolicy)
				}
			}
			alarms = append(alarms, len(s.resources("AWS::CloudWatch::Alarm")))
			body := dashboardBody(t, s)
			widgets = append(widgets, strings.Count(body, `\"type\":`))
			if widgets[len(widgets)-1] > maxDashboardItems {
				t.Errorf("%d dashboard widgets (limit %d)", widgets[len(widgets)-1], maxDashboardItems)
			}
			if lint, err := exec.LookPath("cfn-lint"); err == nil {
				args := append([]string{"--non-zero-exit-code", "warning", "--ignore-checks", "W3005", "--"}, templates...)
				if out, err := exec.Command(lint, args...).CombinedOutput(); err != nil {
					t.Errorf("cfn-lint: %v\n%s", err, out)
				}
			} else {
				testkit.LeftOut(t, testkit.CfnLint, "the cfn-lint check of the scaled templates")
			}
		})
	}
	if len(alarms) == 2 && (alarms[0] != alarms[1] || widgets[0] != widgets[1]) {
		t.Errorf("alarms %v and dashboard widgets %v grow with the connectors (1 vs 1,000)", alarms, widgets)
	}
	t.Logf("alarms %v, dashboard widgets %v for 1 and 1,000 connectors", alarms, widgets)
}

// checkTemplate holds one template to the per-stack limits and returns its connector secrets.
func checkTemplate(t *testing.T, path string) int {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct {
		Resources map[string]struct{ Type string } `json:"Resources"`
		Outputs   map[string]any                   `json:"Outputs"`
	}
	if err := json.Unmarshal(raw, &tpl); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	name := filepath.Base(path)
	if len(raw) > maxTemplateBytes {
		t.Errorf("%s: %d bytes (limit %d)", name, len(raw), maxTemplateBytes)
	}
	if len(tpl.Resources) > maxResources {
		t.Errorf("%s: %d resources (limit %d)", name, len(tpl.Resources), maxResources)
	}
	if len(tpl.Outputs) > maxOutputs {
		t.Errorf("%s: %d outputs (limit %d)", name, len(tpl.Outputs), maxOutputs)
	}
	secrets := 0
	for _, r := range tpl.Resources {
		if r.Type == "AWS::SecretsManager::Secret" {
			secrets++
		}
	}
	t.Logf("%s: %d bytes, %d resources, %d outputs, %d secrets", name, len(raw), len(tpl.Resources), len(tpl.Outputs), secrets)
	return secrets - otlpSecrets(raw)
}

// otlpSecrets is 1 for the template holding the OTLP headers secret.
func otlpSecrets(raw []byte) int {
	if strings.Contains(string(raw), `"OtlpHeaders`) {
		return 1
	}
	return 0
}

func dashboardBody(t *testing.T, s *synthesized) string {
	t.Helper()
	for _, d := range s.resources("AWS::CloudWatch::Dashboard") {
		if d["Properties"].(map[string]any)["DashboardName"] != "CalmCollector" {
			continue // the data dashboard beside it
		}
		b, _ := json.Marshal(d["Properties"].(map[string]any)["DashboardBody"])
		return string(b)
	}
	t.Fatal("no dashboard")
	return ""
}
