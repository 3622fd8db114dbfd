package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/calm-collector/calm-collector/internal/awstest"
	"github.com/calm-collector/calm-collector/internal/conntest"
	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/sim"
)

// eventSimAddr is the simulator address written in events/testconn-post.json; the test puts the
// running simulator's address in its place.
const eventSimAddr = "127.0.0.1:8787"

// TestRIE runs the real bootstrap under the Lambda Runtime Interface Emulator, with Secrets
// Manager in moto and Cloud ALM in the simulator, and posts the sample events of events/.
func TestRIE(t *testing.T) {
	awstest.RIE(t) // fails in CI, skips elsewhere, when the RIE is not installed
	moto := awstest.Moto(t)
	s := sim.New(sim.Config{}) // the POST event carries the simulator's default credentials
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	secretID := "calm/testconn-rie-" + time.Now().Format("150405.000000")
	if _, err := moto.SecretsClient().CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: aws.String(secretID), SecretString: aws.String(string(s.ConnectorJSON()))}); err != nil {
		t.Fatalf("create secret in moto: %v", err)
	}

	bootstrap := awstest.BuildBootstrap(t)
	invoke := awstest.StartRIE(t, bootstrap, []string{
		"AWS_ENDPOINT_URL=" + moto.Endpoint(),
		"AWS_ACCESS_KEY_ID=" + awstest.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + awstest.SecretKey,
		"AWS_REGION=" + awstest.Region,
		"AWS_LAMBDA_LOG_FORMAT=JSON",
		"CALM_SECRET_ID=" + secretID,
		"CALM_TESTCONN_ALLOW_LOOPBACK=true",
	})

	simAddr := strings.TrimPrefix(s.URL(), "http://")
	for _, name := range []string{"testconn-get.json", "testconn-post.json"} {
		t.Run(name, func(t *testing.T) {
			event, err := os.ReadFile(filepath.Join("..", "..", "events", name))
			if err != nil {
				t.Fatal(err)
			}
			var req events.LambdaFunctionURLRequest
			if err := json.Unmarshal(event, &req); err != nil {
				t.Fatalf("%s is not a function URL request: %v", name, err)
			}
			if req.RequestContext.HTTP.Method == "POST" {
				if !strings.Contains(req.Body, eventSimAddr) {
					t.Fatalf("%s body does not point at %s; the test cannot aim it at the simulator", name, eventSimAddr)
				}
				event = []byte(strings.ReplaceAll(string(event), eventSimAddr, simAddr))
			}
			out := awstest.Invoke(t, invoke, event)
			var resp events.LambdaFunctionURLResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatalf("the function did not answer a function URL response: %v\n%s", err, out)
			}
			if resp.StatusCode != 200 || resp.Headers["Content-Type"] != "application/json" {
				t.Fatalf("status %d, headers %v: %s", resp.StatusCode, resp.Headers, resp.Body)
			}
			var report conntest.Report
			if err := json.Unmarshal([]byte(resp.Body), &report); err != nil {
				t.Fatalf("body is not a report: %v\n%s", err, resp.Body)
			}
			want := []string{"settings", "reach", "token", "scopes", "api", "api-shape"}
			for _, id := range monitor.Defaults() {
				want = append(want, "monitor:"+id)
			}
			want = append(want, "quota")
			var got []string
			for _, c := range report.Checks {
				got = append(got, c.ID)
			}
			if !report.OK || report.Connector != "sim" || !slices.Equal(got, want) {
				t.Fatalf("checks %v, want %v; report: %s", got, want, resp.Body)
			}
			for _, c := range report.Checks {
				if c.Status != conntest.Pass {
					t.Errorf("check %s = %s: %s", c.ID, c.Status, c.Detail)
				}
			}
			if strings.Contains(resp.Body, sim.DefaultClientSecret) {
				t.Error("the response holds the client secret")
			}
		})
	}
	// The simulator saw the function's token calls: the tests ran in the Lambda, not here.
	if n := s.Requests()["/oauth/token"]; n < 2 {
		t.Errorf("the simulator got %d token requests, want one per invocation", n)
	}
	if u, _ := url.Parse(invoke); u.Hostname() != "127.0.0.1" {
		t.Errorf("the RIE listens on %s, want loopback", u.Host)
	}
}

// A bad environment stops the cold start with exit status 1 and a log line naming every problem.
func TestBootstrapBadEnvironment(t *testing.T) {
	cmd := exec.Command(awstest.BuildBootstrap(t))
	cmd.Env = []string{"AWS_LAMBDA_LOG_FORMAT=JSON", "CALM_SECRET_TTL=soon", "PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit = %v, want status 1\n%s", err, out)
	}
	var line struct{ Level, Message, Err string }
	if err := json.Unmarshal(out, &line); err != nil {
		t.Fatalf("not one JSON log line: %v\n%s", err, out)
	}
	if line.Level != "ERROR" || line.Message != "invalid environment" ||
		!strings.Contains(line.Err, "CALM_SECRET_ID") || !strings.Contains(line.Err, "CALM_SECRET_TTL") {
		t.Errorf("log line = %+v", line)
	}
}
