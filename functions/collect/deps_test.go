package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// unwantedInBootstrap are packages that once made the bootstrap twice its size while nothing
// here uses them: gRPC (through pdata's pmetricotlp/plogotlp) and the protobuf runtime (through
// the generated google.rpc.Status), whose reflection also keeps every exported method of every
// linked type. BENCHMARKS.md has the sizes.
var unwantedInBootstrap = []string{
	"google.golang.org/grpc",
	"google.golang.org/protobuf/proto",
	"google.golang.org/protobuf/reflect/protoreflect",
	"google.golang.org/genproto/googleapis/rpc/status",
	"golang.org/x/net/http2",
	"text/template",
	"net/rpc",
}

// TestBootstrapLinksNoUnwantedPackages lists the packages of the Lambda build (linux/arm64,
// lambda.norpc) and fails on any of unwantedInBootstrap.
func TestBootstrapLinksNoUnwantedPackages(t *testing.T) {
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "list", "-tags", "lambda.norpc", "-deps", ".")
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
