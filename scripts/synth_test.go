package scripts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A failed synthesis keeps the last good template; a good one replaces it whole.
func TestSynthKeepsTheLastGoodTemplate(t *testing.T) {
	out := filepath.Join(t.TempDir(), "cdk.out")
	good := `mkdir -p "$CDK_OUTDIR" && echo "$1" > "$CDK_OUTDIR/Stack.template.json"`
	if log, code := runScript(t, nil, "synth.sh", out, "sh", "-c", good, "sh", "first"); code != 0 {
		t.Fatalf("good synth: exit %d\n%s", code, log)
	}
	bad := `mkdir -p "$CDK_OUTDIR" && echo half > "$CDK_OUTDIR/Stack.template.json" && exit 3`
	log, code := runScript(t, nil, "synth.sh", out, "sh", "-c", bad)
	if code == 0 || !strings.Contains(log, "keeps the last good template") {
		t.Errorf("failed synth: exit %d\n%s", code, log)
	}
	got, err := os.ReadFile(filepath.Join(out, "Stack.template.json"))
	if err != nil || strings.TrimSpace(string(got)) != "first" {
		t.Errorf("after a failed synth the template is %q (%v), want the last good one", got, err)
	}
	if _, err := os.Stat(out + ".new"); !os.IsNotExist(err) {
		t.Errorf("the failed output is left behind (%v)", err)
	}
	if log, code := runScript(t, nil, "synth.sh", out, "sh", "-c", good, "sh", "second"); code != 0 {
		t.Fatalf("second good synth: exit %d\n%s", code, log)
	}
	if got, _ := os.ReadFile(filepath.Join(out, "Stack.template.json")); strings.TrimSpace(string(got)) != "second" {
		t.Errorf("a good synth did not replace the template: %q", got)
	}
}
