package awstest

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// BuildBootstrap builds the Lambda function in the test's working directory (its package) for
// this machine, with the Makefile's flags, and returns the binary's path: what the RIE runs.
func BuildBootstrap(t testing.TB) string {
	t.Helper()
	bootstrap := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command(GoTool(), "build", "-tags", "lambda.norpc", "-trimpath", "-o", bootstrap, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the bootstrap: %v\n%s", err, out)
	}
	return bootstrap
}

// unwantedInBootstrap are packages that once made the bootstraps twice their size while nothing
// in them uses them: gRPC (through pdata's pmetricotlp/plogotlp) and the protobuf runtime
// (through the generated google.rpc.Status), whose reflection also keeps every exported method
// of every linked type. BENCHMARKS.md has the sizes.
var unwantedInBootstrap = []string{
	"google.golang.org/grpc",
	"google.golang.org/protobuf/proto",
	"google.golang.org/protobuf/reflect/protoreflect",
	"google.golang.org/genproto/googleapis/rpc/status",
	"golang.org/x/net/http2",
	"text/template",
	"net/rpc",
}

// CheckBootstrapDeps lists the packages of the Lambda build (linux/arm64, lambda.norpc) of the
// function in the test's working directory and fails on any unwanted one.
func CheckBootstrapDeps(t testing.TB) {
	t.Helper()
	cmd := exec.Command(GoTool(), "list", "-tags", "lambda.norpc", "-deps", ".")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/aws/aws-lambda-go/lambda") {
		t.Fatalf("go list -deps does not list the Lambda runtime; got %d packages", len(deps))
	}
	for _, dep := range deps {
		for _, bad := range unwantedInBootstrap {
			if dep == bad || strings.HasPrefix(dep, bad+"/") {
				t.Errorf("the bootstrap links %s; find who imports it with: GOOS=linux GOARCH=arm64 go list -tags lambda.norpc -f '{{.ImportPath}}: {{.Imports}}' -deps . | grep %s", dep, bad)
			}
		}
	}
}

// GoTool is the go command of the toolchain running the test: `go test` puts its GOROOT/bin
// first on the test's PATH.
func GoTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}
