package release

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// assembly writes a small cloud assembly as the CDK writes one (the shape of a synthesized
// CalmCollector: a function whose code is a zip asset in the bootstrap bucket, the bootstrap
// version parameter and its rule) and returns its directory.
func assembly(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bucket := "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"
	tpl := map[string]any{
		"Parameters": map[string]any{"BootstrapVersion": map[string]any{"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/cdk-bootstrap/hnb659fds/version"}},
		"Rules":      map[string]any{"CheckBootstrapVersion": map[string]any{"Assertions": []any{}}},
		"Resources": map[string]any{
			"CollectFunction1234": map[string]any{"Type": "AWS::Lambda::Function", "Properties": map[string]any{
				"Code": map[string]any{"S3Bucket": map[string]any{"Fn::Sub": bucket}, "S3Key": "abc123.zip"},
				"Environment": map[string]any{"Variables": map[string]any{
					"CALM_STATE_TABLE": map[string]any{"Ref": "StateTable99"},
					"CALM_SINKS":       map[string]any{"Fn::Join": []any{"", []any{"stdout,s3://", map[string]any{"Ref": "Archive1"}, "/records"}}},
					"CALM_MONITORS":    "auto",
				}},
			}},
			"TestconnFunction5678": map[string]any{"Type": "AWS::Lambda::Function", "Properties": map[string]any{
				"Code": map[string]any{"S3Bucket": map[string]any{"Fn::Sub": bucket}, "S3Key": "def456.zip"},
			}},
		},
	}
	man := map[string]any{"version": "48.0.0", "files": map[string]any{
		"abc123":  asset("asset.abc123", "zip", bucket, "abc123.zip"),
		"def456":  asset("asset.def456", "zip", bucket, "def456.zip"),
		"unused1": asset("asset.unused1.json", "file", bucket, "unused1.json"),
		"tpl999":  asset("S.template.json", "file", bucket, "tpl999.json"),
	}, "dockerImages": map[string]any{}}
	writeJSON(t, filepath.Join(dir, "S.template.json"), tpl)
	writeJSON(t, filepath.Join(dir, "S.assets.json"), man)
	for _, a := range []string{"asset.abc123", "asset.def456"} {
		if err := os.MkdirAll(filepath.Join(dir, a), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, a, "bootstrap"), []byte("binary of "+a), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func asset(path, packaging, bucket, key string) map[string]any {
	return map[string]any{"source": map[string]any{"path": path, "packaging": packaging},
		"destinations": map[string]any{"current_account-current_region": map[string]any{"bucketName": bucket, "objectKey": key}}}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestPackageMakesAssetsParameters(t *testing.T) {
	out := t.TempDir()
	assets, err := Package(assembly(t), "S", out)
	if err != nil {
		t.Fatal(err)
	}
	if len(assets) != 2 || assets[0].Key != "abc123.zip" || assets[1].Key != "def456.zip" {
		t.Errorf("assets %+v, want the two the template uses (not the unused one, not the template)", assets)
	}
	var tpl map[string]any
	b, err := os.ReadFile(filepath.Join(out, "S.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &tpl); err != nil {
		t.Fatal(err)
	}
	code := tpl["Resources"].(map[string]any)["CollectFunction1234"].(map[string]any)["Properties"].(map[string]any)["Code"]
	want := map[string]any{"S3Bucket": map[string]any{"Ref": "AssetsBucket"}, "S3Key": map[string]any{"Fn::Sub": "${AssetsPrefix}abc123.zip"}}
	if !reflect.DeepEqual(code, want) {
		t.Errorf("Code = %v, want %v", code, want)
	}
	params := tpl["Parameters"].(map[string]any)
	if _, ok := params["BootstrapVersion"]; ok || params["AssetsBucket"] == nil || params["AssetsPrefix"] == nil {
		t.Errorf("parameters %v: want AssetsBucket and AssetsPrefix, no BootstrapVersion", params)
	}
	if _, ok := tpl["Rules"]; ok || bytes.Contains(b, []byte("hnb659fds")) {
		t.Errorf("the packaged template still needs the CDK bootstrap:\n%s", b)
	}
	zr, err := zip.OpenReader(filepath.Join(out, "assets", "abc123.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode().Perm() != 0o755 {
		t.Errorf("asset zip holds %v; want bootstrap, mode 0755", zr.File)
	}
}

func TestZipDirIsReproducible(t *testing.T) {
	dir := assembly(t)
	a, b := filepath.Join(t.TempDir(), "a.zip"), filepath.Join(t.TempDir(), "b.zip")
	if err := ZipDir(a, filepath.Join(dir, "asset.abc123")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(filepath.Join(dir, "asset.abc123", "bootstrap"), zipTime.AddDate(1, 0, 0), zipTime.AddDate(1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	if err := ZipDir(b, filepath.Join(dir, "asset.abc123")); err != nil {
		t.Fatal(err)
	}
	ab, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if !bytes.Equal(ab, bb) {
		t.Error("the same files zipped at two modification times give two zips")
	}
}

func TestEnvJSON(t *testing.T) {
	var tpl map[string]any
	b, _ := os.ReadFile(filepath.Join(assembly(t), "S.template.json"))
	if err := json.Unmarshal(b, &tpl); err != nil {
		t.Fatal(err)
	}
	got, err := EnvJSON(tpl, map[string][]string{"Collect": {"CALM_ENDPOINT_URL", "CALM_MONITORS"}, "Testconn": {"CALM_TESTCONN_ALLOW_LOOPBACK"}})
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]map[string]string
	if err := json.Unmarshal(got, &env); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{
		"CollectFunction1234": {"CALM_STATE_TABLE": "<Ref StateTable99>", "CALM_SINKS": "stdout,s3://<Ref Archive1>/records",
			"CALM_MONITORS": "auto", "CALM_ENDPOINT_URL": ""},
		"TestconnFunction5678": {"CALM_TESTCONN_ALLOW_LOOPBACK": ""},
	}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("env.json = %v\nwant %v", env, want)
	}
	if _, err := EnvJSON(tpl, map[string][]string{"Collect": nil, "Nope": nil}); err == nil {
		t.Error("a function missing from the template was not an error")
	}
}
