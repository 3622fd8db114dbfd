package awstest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

// Region and the static credentials every client built here uses; moto accepts any.
const (
	Region    = "us-east-1"
	AccessKey = "test"
	SecretKey = "test"
)

// motoStartTimeout bounds how long Moto waits for a fresh moto_server to answer.
const motoStartTimeout = 60 * time.Second // a busy 2-core machine starts Python slowly

// MotoServer is a moto_server process on loopback, shared by every test of one test binary.
// Tests that share it should use names of their own (or call Reset when they run sequentially).
type MotoServer struct {
	endpoint string
	cmd      *exec.Cmd
	out      *tailBuffer
	exited   chan struct{} // closed when the process has exited
}

var (
	motoMu     sync.Mutex
	motoShared *MotoServer
)

// Moto returns the test binary's moto_server, starting it on first use on 127.0.0.1 and a free port.
// The server lives until StopAll is called or the test binary exits: it is started with a parent-death
// signal, so it never outlives the test process, even one killed by a timeout. When moto_server is not
// on PATH, the test fails if CI=true and is skipped otherwise.
func Moto(t testing.TB) *MotoServer {
	t.Helper()
	motoMu.Lock()
	defer motoMu.Unlock()
	if s := motoShared; s != nil {
		select {
		case <-s.exited:
			t.Logf("awstest: moto_server at %s had exited; starting a new one; its output:\n%s", s.endpoint, s.out)
			motoShared = nil
		default:
			return s
		}
	}
	path, err := exec.LookPath("moto_server")
	if err != nil {
		testkit.Missing(t, testkit.MotoServer, "awstest: moto_server is not on PATH: %v", err)
		return nil
	}
	// A free port can be taken between probing and binding; one more try covers that race.
	var last error
	for attempt := 0; attempt < 2; attempt++ {
		s, err := startMoto(path)
		if err == nil {
			motoShared = s
			return s
		}
		last = err
	}
	t.Fatalf("awstest: %v", last)
	return nil
}

// StopAll stops the shared moto_server, if one runs. Call it from TestMain after m.Run for a prompt
// shutdown; without it the server is killed when the test binary exits.
func StopAll() {
	motoMu.Lock()
	defer motoMu.Unlock()
	if motoShared != nil {
		_ = syscall.Kill(-motoShared.cmd.Process.Pid, syscall.SIGKILL)
		<-motoShared.exited // the goroutine started with the process reaps it
		motoShared = nil
	}
}

func startMoto(path string) (*MotoServer, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	out := &tailBuffer{max: 16 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := startPinned(cmd); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	s := &MotoServer{endpoint: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, out: out, exited: make(chan struct{})}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait(); close(s.exited) }()

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(motoStartTimeout)
	for delay := 20 * time.Millisecond; ; delay = min(delay*2, 500*time.Millisecond) {
		resp, err := client.Get(s.endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case err := <-waitErr:
			return nil, fmt.Errorf("moto_server on port %d exited before answering (%v); its output:\n%s", port, err, out)
		case <-time.After(delay):
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-s.exited
			return nil, fmt.Errorf("moto_server on port %d did not answer within %s; its output:\n%s", port, motoStartTimeout, out)
		}
	}
}

// Endpoint is the server's base URL, e.g. "http://127.0.0.1:41234" (for CALM_ENDPOINT_URL or
// AWS_ENDPOINT_URL in a child process).
func (s *MotoServer) Endpoint() string { return s.endpoint }

// Reset drops every resource held by the server (POST /moto-api/reset).
func (s *MotoServer) Reset(t testing.TB) {
	t.Helper()
	resp, err := http.Post(s.endpoint+"/moto-api/reset", "application/json", nil)
	if err != nil {
		t.Fatalf("awstest: reset moto: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("awstest: reset moto: HTTP %d", resp.StatusCode)
	}
}

// AWSConfig returns an SDK configuration pointing every service at the server, with static
// credentials test/test in us-east-1. S3 clients must also set UsePathStyle (see S3Client).
func (s *MotoServer) AWSConfig(ctx context.Context) aws.Config {
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, "")),
		config.WithBaseEndpoint(s.endpoint),
	)
	if err != nil {
		// Only a broken AWS_* environment gets here; nothing a test could recover from.
		panic(fmt.Sprintf("awstest: load aws config for moto: %v", err))
	}
	return cfg
}

// S3Client returns an S3 client for the server, path-style addressed.
func (s *MotoServer) S3Client() *s3.Client {
	return s3.NewFromConfig(s.AWSConfig(context.Background()), func(o *s3.Options) { o.UsePathStyle = true })
}

// DynamoClient returns a DynamoDB client for the server.
func (s *MotoServer) DynamoClient() *dynamodb.Client {
	return dynamodb.NewFromConfig(s.AWSConfig(context.Background()))
}

// SecretsClient returns a Secrets Manager client for the server.
func (s *MotoServer) SecretsClient() *secretsmanager.Client {
	return secretsmanager.NewFromConfig(s.AWSConfig(context.Background()))
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// The parent-death signal fires when the thread that started the child exits, not the process.
// Children are therefore started from one goroutine locked to its thread that never returns, so
// the signal fires exactly when the test binary ends.
var (
	spawnOnce sync.Once
	spawnReq  chan spawnCall
)

type spawnCall struct {
	cmd  *exec.Cmd
	done chan error
}

func startPinned(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnReq = make(chan spawnCall)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the process
			for c := range spawnReq {
				c.done <- c.cmd.Start()
			}
		}()
	})
	done := make(chan error, 1)
	spawnReq <- spawnCall{cmd: cmd, done: done}
	return <-done
}

// tailBuffer keeps the last max bytes written to it; safe for concurrent use.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(bytes.TrimSpace(b.buf))
}

// Main is the TestMain of a package that uses the shared moto_server: it runs the tests, stops
// the server and exits with the tests' code.
func Main(m *testing.M) {
	code := m.Run()
	StopAll()
	os.Exit(code)
}
