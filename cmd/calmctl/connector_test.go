package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/calm-collector/calm-collector/internal/awstest"
	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/sim"
)

// motoEnv starts (or reuses) moto with no resources and points calmctl's AWS configuration at
// it, with test credentials and nothing from the machine's ~/.aws.
func motoEnv(t *testing.T) *awstest.MotoServer {
	t.Helper()
	m := awstest.Moto(t)
	m.Reset(t)
	for k, v := range map[string]string{"AWS_REGION": awstest.Region, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": filepath.Join(t.TempDir(), "none"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(t.TempDir(), "none"), "CALM_ENDPOINT_URL": m.Endpoint()} {
		t.Setenv(k, v)
	}
	return m
}

// calmctl runs calmctl connector args in process.
func calmctl(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(append([]string{"connector"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// A connector's name is its tenant's identity: a key naming another tenant is refused with both
// names, one without a name is stored under the connector's (and the answer says so).
func TestConnectorAddBindsTheTenantToTheConnectorName(t *testing.T) {
	m := motoEnv(t)
	m.CreateStack(t, "S")
	srv := sim.StartTest(t, sim.Config{})
	dir := t.TempDir()
	var key map[string]any
	_ = json.Unmarshal(srv.ServiceKeyJSON(), &key)
	key["name"] = "victim"
	squat, _ := json.Marshal(key)
	file := filepath.Join(dir, "squat.json")
	if err := os.WriteFile(file, squat, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := calmctl("add", "--stack", "S", "--name", "squat", "--secret-file", file)
	if code != 2 || !strings.Contains(errs, `connector "squat": the settings name the tenant "victim"`) {
		t.Errorf("add --name squat of a key naming victim: exit %d\n%s%s", code, out, errs)
	}
	plain := filepath.Join(dir, "plain.json")
	if err := os.WriteFile(plain, srv.ServiceKeyJSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs = calmctl("add", "--stack", "S", "--name", "prod", "--secret-file", plain)
	if code != 0 || !strings.Contains(out, `stored as "prod"`) {
		t.Fatalf("add --name prod of a key without a name: exit %d\n%s%s", code, out, errs)
	}
	got, err := m.SecretsClient().GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("calm-collector/S/connectors/prod")})
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := calm.ParseSettings([]byte(aws.ToString(got.SecretString)))
	if err != nil || s.Name != "prod" {
		t.Errorf("stored settings name %q (%v), want the connector's name prod", s.Name, err)
	}
}

// calmctl connector add tests before it stores, list shows what the collector will find, remove
// takes the tenant out; against moto and the simulator.
func TestConnectorAddListRemove(t *testing.T) {
	m := motoEnv(t)
	m.CreateStack(t, "S")
	srv := sim.StartTest(t, sim.Config{})
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, srv.ServiceKeyJSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	var key map[string]any
	_ = json.Unmarshal(srv.ServiceKeyJSON(), &key)
	key["uaa"].(map[string]any)["clientsecret"] = "wrong-secret-value"
	badJSON, _ := json.Marshal(key)
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, badJSON, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := calmctl("add", "--stack", "S", "--name", "prod-eu10", "--secret-file", good, "--interval", "15m", "--monitors", "hm"); code != 0 {
		t.Fatalf("add: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs := calmctl("add", "--stack", "S", "--name", "broken", "--secret-file", bad)
	if code != 1 || !strings.Contains(errs, "nothing was stored") || strings.Contains(out+errs, "wrong-secret-value") {
		t.Errorf("add with a wrong secret: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = calmctl("list", "--stack", "S")
	if code != 0 || !strings.Contains(out, "prod-eu10") || !strings.Contains(out, "15m0s") || strings.Contains(out, "broken") {
		t.Errorf("list: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs := calmctl("remove", "--stack", "S", "--name", "prod-eu10"); code != 0 {
		t.Errorf("remove: exit %d\n%s%s", code, out, errs)
	}
	if _, out, _ := calmctl("list", "--stack", "S"); strings.Contains(out, "prod-eu10") {
		t.Errorf("list after remove still shows it:\n%s", out)
	}
	code, _, errs = calmctl("add", "--stack", "Missing", "--name", "prod-eu10", "--secret-file", good)
	if code != 1 || !strings.Contains(errs, "--stack Missing: no such CloudFormation stack in "+awstest.Region) || !strings.Contains(errs, "nothing was stored") {
		t.Errorf("add to a stack that does not exist: exit %d, %s", code, errs)
	}
	code, _, errs = calmctl("add", "--name", "Bad Name")
	if code != 2 || !strings.Contains(errs, "--stack") || !strings.Contains(errs, "--name") {
		t.Errorf("bad usage: exit %d, %s", code, errs)
	}
}

// A connector added to a stack with a customer key of its secrets (its SecretsKmsKeyArn output,
// written when secretsKmsKeyArn is set) is created under that key, with no flag; --kms-key is
// for --prefix only.
func TestConnectorAddUsesTheStacksKey(t *testing.T) {
	m := motoEnv(t)
	const key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	m.CreateStackWithOutputs(t, "Keyed", map[string]string{"SecretsKmsKeyArn": key})
	srv := sim.StartTest(t, sim.Config{})
	file := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(file, srv.ServiceKeyJSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := calmctl("add", "--stack", "Keyed", "--name", "prod", "--secret-file", file); code != 0 {
		t.Fatalf("add: exit %d\n%s%s", code, out, errs)
	}
	d, err := m.SecretsClient().DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String("calm-collector/Keyed/connectors/prod")})
	if err != nil || aws.ToString(d.KmsKeyId) != key {
		t.Errorf("the connector's key is %q (%v), want the stack's %s", aws.ToString(d.KmsKeyId), err, key)
	}
	code, _, errs := calmctl("add", "--stack", "Keyed", "--name", "other", "--secret-file", file, "--kms-key", "alias/mine")
	if code != 2 || !strings.Contains(errs, "--kms-key: with --stack the secret uses the stack's key") {
		t.Errorf("--kms-key with --stack: exit %d, %s", code, errs)
	}
}

// --stack is checked like the stackName it was deployed with: a name that climbs out of the
// prefix (calm-collector/STACK/connectors/) is refused before anything is touched.
func TestConnectorStackNameIsChecked(t *testing.T) {
	for _, stack := range []string{"Adv/connectors/../../Other", "a/b", "1abc", "bad_name"} {
		code, _, errs := calmctl("list", "--stack", stack)
		if code != 2 || !strings.Contains(errs, "--stack: stack name") {
			t.Errorf("--stack %q: exit %d, %s", stack, code, errs)
		}
	}
}
