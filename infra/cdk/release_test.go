package main

import (
	"archive/zip"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/calm-collector/calm-collector/internal/awstest"
	"github.com/calm-collector/calm-collector/internal/release"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

// TestReleaseTemplate packages the synthesized default stack as make release does and checks
// what a stranger deploys with `aws cloudformation deploy`, without the CDK: the template asks
// for AssetsBucket and AssetsPrefix and names nothing of the CDK bootstrap, every function's code
// is an asset file beside it (a zip holding an executable bootstrap), cfn-lint passes, and the
// schedule sends what events/collect-dispatch.json holds.
func TestReleaseTemplate(t *testing.T) {
	s := defaults(t)
	out := t.TempDir()
	assets, err := release.Package(*s.app.Outdir(), *s.stack.Stack.ArtifactId(), out)
	if err != nil {
		t.Fatalf("package: %v", err)
	}
	path := filepath.Join(out, *s.stack.Stack.ArtifactId()+".template.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tpl map[string]any
	if err := json.Unmarshal(b, &tpl); err != nil {
		t.Fatal(err)
	}
	params, _ := tpl["Parameters"].(map[string]any)
	if got := slices.Sorted(maps.Keys(params)); !slices.Equal(got, []string{release.BucketParam, release.PrefixParam}) {
		t.Errorf("parameters %v, want exactly AssetsBucket and AssetsPrefix", got)
	}
	if strings.Contains(string(b), "hnb659fds") || strings.Contains(string(b), "cdk-bootstrap") {
		t.Error("the packaged template still refers to the CDK bootstrap")
	}
	// The test's two dummy bootstraps are the same file, so they may share one asset.
	functions := s.resources("AWS::Lambda::Function")
	if len(assets) == 0 || len(functions) < 2 {
		t.Fatalf("%d assets for %d functions", len(assets), len(functions))
	}
	packaged := tpl["Resources"].(map[string]any)
	for id := range functions {
		code := packaged[id].(map[string]any)["Properties"].(map[string]any)["Code"].(map[string]any)
		sub, _ := code["S3Key"].(map[string]any)["Fn::Sub"].(string)
		key, ok := strings.CutPrefix(sub, "${AssetsPrefix}")
		if code["S3Bucket"].(map[string]any)["Ref"] != release.BucketParam || !ok {
			t.Errorf("%s: Code %v, want AssetsBucket and ${AssetsPrefix}<key>", id, code)
			continue
		}
		checkBootstrapZip(t, filepath.Join(out, "assets", key))
	}
	lint := testkit.LookPath(t, testkit.CfnLint)
	if out, err := exec.Command(lint, "--ignore-checks", "W3005", "--", path).CombinedOutput(); err != nil {
		t.Errorf("cfn-lint on the packaged template: %v\n%s", err, out)
	}
	dispatch, err := os.ReadFile(filepath.Join("..", "..", "events", "collect-dispatch.json"))
	if err != nil {
		t.Fatal(err)
	}
	for id, sch := range s.resources("AWS::Scheduler::Schedule") {
		input := sch["Properties"].(map[string]any)["Target"].(map[string]any)["Input"]
		if input != strings.TrimSpace(string(dispatch)) {
			t.Errorf("schedule %s sends %v; events/collect-dispatch.json holds %s", id, input, dispatch)
		}
	}
}

// checkBootstrapZip fails unless path is a zip whose one file is an executable bootstrap.
func checkBootstrapZip(t *testing.T, path string) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Errorf("asset %s: %v", filepath.Base(path), err)
		return
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode().Perm()&0o100 == 0 {
		t.Errorf("asset %s holds %v, want one executable bootstrap", filepath.Base(path), zr.File)
	}
}

// TestEnvJSON: events/env.json is what make env-json generates from the default stack (so it
// follows the stack's environment), and it lists every variable each function reads: every
// CALM_* name (and AWS_ENDPOINT_URL_S3) in the non-test source of the function and the packages
// it links.
func TestEnvJSON(t *testing.T) {
	s := defaults(t)
	want, err := release.EnvJSON(s.json, release.LocalOnly)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("..", "..", "events", "env.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("events/env.json is stale: run make env-json\n got:\n%s\nwant:\n%s", got, want)
	}
	var env map[string]map[string]string
	if err := json.Unmarshal(want, &env); err != nil {
		t.Fatal(err)
	}
	for id, vars := range env {
		fn := map[bool]string{true: "collect", false: "testconn"}[strings.HasPrefix(id, "Collect")]
		read := namesRead(t, "../../functions/"+fn)
		for _, name := range read {
			if _, ok := vars[name]; !ok {
				t.Errorf("%s reads %s, which env.json's %s lacks (add it to release.LocalOnly)", fn, name, id)
			}
		}
		for prefix, names := range release.LocalOnly {
			if !strings.HasPrefix(id, prefix) {
				continue
			}
			for _, name := range names {
				if !slices.Contains(read, name) {
					t.Errorf("release.LocalOnly lists %s for %s, which the function no longer reads (remove it)", name, fn)
				}
			}
		}
	}
}

var envName = regexp.MustCompile(`"(CALM_[A-Z0-9_]+|AWS_ENDPOINT_URL_S3)"`)

// namesRead lists the variable names quoted in the non-test Go files of pkg and of the module's
// packages it links.
func namesRead(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command(awstest.GoTool(), "list", "-deps", "-f", `{{if not .Standard}}{{.Dir}}{{"\t"}}{{join .GoFiles ","}}{{end}}`, pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	root, _ := filepath.Abs("../..")
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		dir, files, _ := strings.Cut(line, "\t")
		if !strings.HasPrefix(dir, root) || files == "" {
			continue
		}
		for _, f := range strings.Split(files, ",") {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range envName.FindAllSubmatch(b, -1) {
				seen[string(m[1])] = true
			}
		}
	}
	if len(seen) == 0 {
		t.Fatalf("no variable names found in %s: the scan is broken", pkg)
	}
	return slices.Sorted(maps.Keys(seen))
}
