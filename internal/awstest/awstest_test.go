package awstest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

func TestMain(m *testing.M) {
	code := m.Run()
	StopAll()
	os.Exit(code)
}

func TestMotoSecretsRoundTrip(t *testing.T) {
	ctx := context.Background()
	moto := Moto(t)
	if again := Moto(t); again != moto {
		t.Fatalf("second Moto call started another server: %s and %s", moto.Endpoint(), again.Endpoint())
	}
	sm := moto.SecretsClient()
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("awstest/round-trip"), SecretString: aws.String(`{"k":"v"}`),
	}); err != nil {
		t.Fatalf("create secret: %v", err)
	}
	got, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("awstest/round-trip")})
	if err != nil {
		t.Fatalf("get secret: %v", err)
	}
	if aws.ToString(got.SecretString) != `{"k":"v"}` {
		t.Errorf("secret = %q, want %q", aws.ToString(got.SecretString), `{"k":"v"}`)
	}

	moto.Reset(t)
	if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("awstest/round-trip")}); err == nil {
		t.Errorf("secret still readable after Reset")
	}
}

// The sink writes to S3 with the SDK's default checksums; moto must accept them path-style.
func TestMotoS3PathStyle(t *testing.T) {
	ctx := context.Background()
	c := Moto(t).S3Client()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("awstest-bucket")}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("awstest-bucket"), Key: aws.String("a/b.txt"), Body: strings.NewReader("hello"),
	}); err != nil {
		t.Fatalf("put object: %v", err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("awstest-bucket"), Key: aws.String("a/b.txt")})
	if err != nil {
		t.Fatalf("get object: %v", err)
	}
	defer out.Body.Close()
	body, _ := io.ReadAll(out.Body)
	if string(body) != "hello" {
		t.Errorf("object = %q, want hello", body)
	}
}

// A test binary that ends without StopAll must not leave moto_server behind.
func TestMotoDiesWithTestBinary(t *testing.T) {
	if os.Getenv("AWSTEST_CHILD") == "1" {
		m := Moto(t)
		fmt.Printf("MOTO_PID=%d\n", m.cmd.Process.Pid)
		os.Exit(0) // no StopAll, no cleanup: the parent-death signal must do it
	}
	if _, err := exec.LookPath("moto_server"); err != nil {
		testkit.Missing(t, testkit.MotoServer, "moto_server is not on PATH")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestMotoDiesWithTestBinary$")
	cmd.Env = append(os.Environ(), "AWSTEST_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child test binary: %v\n%s", err, out)
	}
	var pid int
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "MOTO_PID="); ok {
			pid, _ = strconv.Atoi(v)
		}
	}
	if pid == 0 {
		t.Fatalf("child printed no MOTO_PID:\n%s", out)
	}
	// The kill is asynchronous to the child's exit: wait (bounded) until the process is gone or a zombie.
	for i := 0; ; i++ {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || processState(stat) == "Z" {
			return
		}
		if i == 100 {
			t.Fatalf("moto_server (pid %d) still running after its test binary exited: %s", pid, stat)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// processState returns the state field of /proc/PID/stat ("R", "S", "Z", ...).
func processState(stat []byte) string {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return ""
	}
	return string(stat[i+2])
}

func TestRIEInvoke(t *testing.T) {
	rie := RIE(t) // fails in CI / skips locally before anything gets built
	t.Logf("RIE: %s", rie)
	bin := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, "./testdata/echo")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build echo function: %v\n%s", err, out)
	}
	url := StartRIE(t, bin, []string{"ECHO_GREETING=hi"})
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasSuffix(url, InvocationsPath) {
		t.Errorf("invoke URL = %q, want a loopback URL ending in %s", url, InvocationsPath)
	}
	var got struct {
		Event    map[string]int `json:"event"`
		Greeting string         `json:"greeting"`
	}
	for i := 1; i <= 2; i++ { // the second call reuses the warm bootstrap
		body := Invoke(t, url, []byte(fmt.Sprintf(`{"n":%d}`, i)))
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("invoke %d: response %q: %v", i, body, err)
		}
		if got.Event["n"] != i || got.Greeting != "hi" {
			t.Errorf("invoke %d: got %+v, want event n=%d and greeting hi", i, got, i)
		}
	}
}
