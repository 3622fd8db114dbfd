package archtest

import (
	"bufio"
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/calm-collector/calm-collector/"

// pkg is one package of the module as `go list` sees it: its directory, non-test files and the
// module's packages it depends on (directly or not).
type pkg struct {
	path, dir string
	files     []string
	imports   []string // direct imports
	deps      []string // every dependency
}

func listPackages(t *testing.T) map[string]pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps=false", "-f",
		"{{.ImportPath}}\t{{.Dir}}\t{{join .GoFiles \" \"}}\t{{join .Imports \" \"}}\t{{join .Deps \" \"}}", module+"...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	pkgs := map[string]pkg{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 5 {
			t.Fatalf("go list line %q", sc.Text())
		}
		p := pkg{path: strings.TrimPrefix(f[0], module), dir: f[1], files: strings.Fields(f[2]),
			imports: strings.Fields(f[3]), deps: strings.Fields(f[4])}
		pkgs[p.path] = p
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages of the module; want them all", len(pkgs))
	}
	return pkgs
}

// TestInfraImportsOnlySharedRules: infra/cdk links nothing from internal/ but the shared rules
// it applies at synth: the monitor table, the sink-spec rule (with the loopback rule it uses)
// the alert-rule parser, the quota rule and the default cadence.
func TestInfraImportsOnlySharedRules(t *testing.T) {
	allowed := []string{"internal/monitor", "internal/sink/spec", "internal/loopback", "internal/alert/rules", "internal/quota", "internal/cadence"}
	for _, d := range listPackages(t)["infra/cdk"].deps {
		p, ok := strings.CutPrefix(d, module)
		if ok && strings.HasPrefix(p, "internal/") && !slices.Contains(allowed, p) {
			t.Errorf("infra/cdk depends on %s; it may use only %s", p, strings.Join(allowed, ", "))
		}
	}
}

// httpClientCalls are the net/http names that make a request.
var httpClientCalls = []string{"NewRequest", "NewRequestWithContext", "Get", "Post", "PostForm", "Head", "DefaultClient"}

// TestMainsMakeNoHTTPRequests: the Lambdas and calmctl reach Cloud ALM, the function URL and the
// backends only through internal packages; their own code builds no request.
func TestMainsMakeNoHTTPRequests(t *testing.T) {
	for path, p := range listPackages(t) {
		if !strings.HasPrefix(path, "functions/") && !strings.HasPrefix(path, "cmd/") {
			continue
		}
		forEachFile(t, p, func(name string, f *ast.File) {
			local := importName(f, "net/http")
			if local == "" {
				return
			}
			ast.Inspect(f, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if id, isID := sel.X.(*ast.Ident); isID && id.Name == local && slices.Contains(httpClientCalls, sel.Sel.Name) {
					t.Errorf("%s: %s uses http.%s; make the request in an internal package", path, name, sel.Sel.Name)
				}
				return true
			})
		})
	}
}

// cloudALMPaths are the path prefixes of the Cloud ALM and XSUAA APIs.
var cloudALMPaths = []string{"/api/calm-", "/api/bsm-service", "/oauth/token"}

// TestOnlyCalmSpeaksToCloudALM: a string literal that starts with a Cloud ALM or token path
// appears, outside tests, only in internal/calm (the client) and internal/sim (the simulator
// serving it). The check must also find the client's own paths, or it checks nothing.
func TestOnlyCalmSpeaksToCloudALM(t *testing.T) {
	found := map[string]int{}
	for path, p := range listPackages(t) {
		forEachFile(t, p, func(name string, f *ast.File) {
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil || !slices.ContainsFunc(cloudALMPaths, func(p string) bool { return strings.HasPrefix(s, p) }) {
					return true
				}
				found[path]++
				if path != "internal/calm" && path != "internal/sim" {
					t.Errorf("%s: %s holds the Cloud ALM path %q; only internal/calm calls Cloud ALM", path, name, s)
				}
				return true
			})
		})
	}
	if found["internal/calm"] < 3 {
		t.Errorf("found %d Cloud ALM paths in internal/calm; the check does not see the client's calls", found["internal/calm"])
	}
}

// TestCloudALMClientImportsNothingOfTheHouse: internal/calm is the bottom of the house (docs/
// architecture.md): it links no package of the module but the shared leaf rules.
func TestCloudALMClientImportsNothingOfTheHouse(t *testing.T) {
	allowed := []string{"internal/retry", "internal/loopback", "internal/monitor", "internal/transcript", "internal/wire"}
	for _, d := range listPackages(t)["internal/calm"].deps {
		if p, ok := strings.CutPrefix(d, module); ok && !slices.Contains(allowed, p) {
			t.Errorf("internal/calm depends on %s; it may use only %s", p, strings.Join(allowed, ", "))
		}
	}
}

func forEachFile(t *testing.T, p pkg, fn func(name string, f *ast.File)) {
	t.Helper()
	fset := token.NewFileSet()
	for _, name := range p.files {
		f, err := parser.ParseFile(fset, filepath.Join(p.dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		fn(name, f)
	}
}

// importName is the name a file uses for an import path ("" when it does not import it).
func importName(f *ast.File, path string) string {
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == path {
			if imp.Name != nil {
				return imp.Name.Name
			}
			return filepath.Base(path)
		}
	}
	return ""
}

// TestNoCommandLinksTheGlueClient: the SDK's Glue client's generated schemas cost about 16 ms
// and 2 MB of heap at every process start (package init) for the two calls of the Athena tenant
// projection, which internal/fleet/projection makes as signed requests instead.
func TestNoCommandLinksTheGlueClient(t *testing.T) {
	const glue = "github.com/aws/aws-sdk-go-v2/service/glue"
	for path, p := range listPackages(t) {
		if (strings.HasPrefix(path, "functions/") || strings.HasPrefix(path, "cmd/")) && slices.Contains(p.deps, glue) {
			t.Errorf("%s links %s; call Glue through internal/fleet/projection.Glue", path, glue)
		}
	}
}
