package coldserve_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/coldserve/coldserve/"

// layers is the layout, bottom up: each package and the packages of this module it may
// import. Data flows one way (front ends → inference core → engine and encoder → kernels), so
// an import that reverses an arrow, or a package missing here, fails TestLayout. Tools
// (cmd/, bench/) sit on top and may import anything.
var layers = map[string][]string{
	"api":                {},
	"api/openai":         {"api"},
	"api/tei":            {"api"},
	"docs":               {},
	"engine":             {},
	"hub":                {},
	"hub/hubtest":        {},
	"tokenizer":          {},
	"internal/kernels":   {},
	"internal/weightgen": {},
	"internal/refcount":  {},
	"weights":            {"internal/weightgen"},
	"encoder":            {"internal/kernels", "weights"},
	"checkpoint":         {"hub", "weights"},
	"inference":          {"checkpoint", "encoder", "engine", "hub", "internal/refcount", "tokenizer", "weights"},
	// The declared checkpoint: drives the core, beside the front ends rather than below them.
	"rollout": {"checkpoint", "inference", "weights"},
	// Test fixtures shared by the inference and server tests (imported only from _test files).
	"internal/fixture": {"encoder", "weights"},
	"server":           {"api", "api/openai", "api/tei", "checkpoint", "docs", "encoder", "engine", "hub", "inference", "internal/refcount", "rollout", "tokenizer", "weights"},
}

// computeOnly are the packages below the front ends: they never speak HTTP, so the same core
// can serve any protocol (hub is not among them: it is an HTTP client by nature).
var computeOnly = []string{"engine", "tokenizer", "internal/kernels", "internal/weightgen", "internal/refcount", "weights", "encoder", "checkpoint", "inference", "rollout"}

var httpImports = []string{"net/http", "github.com/gin-gonic/gin"}

func TestLayout(t *testing.T) {
	imports := moduleImports(t)
	for pkg, deps := range imports {
		if strings.HasPrefix(pkg, "cmd/") || strings.HasPrefix(pkg, "bench/") {
			continue
		}
		t.Run(pkg, func(t *testing.T) {
			for _, v := range violations(pkg, deps) {
				t.Error(v)
			}
		})
	}
}

// violations says what is wrong with pkg importing deps.
func violations(pkg string, deps []string) []string {
	allowed, known := layers[pkg]
	if !known {
		return []string{"package " + pkg + " is not in the layout: add it to layers with the packages it may import"}
	}
	var out []string
	for _, dep := range deps {
		if local, ok := strings.CutPrefix(dep, module); ok && !slices.Contains(allowed, local) {
			out = append(out, pkg+" imports "+local+", which the layout does not allow")
		}
		if slices.Contains(computeOnly, pkg) && (slices.Contains(httpImports, dep) || strings.HasPrefix(dep, "github.com/gin-gonic/")) {
			out = append(out, pkg+" imports "+dep+": compute never imports HTTP")
		}
	}
	return out
}

// The check itself must catch a reversed arrow, HTTP below the front ends and an unknown package.
func TestLayoutViolations(t *testing.T) {
	tests := []struct {
		pkg  string
		deps []string
		bad  bool
	}{
		{"encoder", []string{module + "internal/kernels", module + "weights", "fmt"}, false},
		{"encoder", []string{module + "inference"}, true},
		{"weights", []string{module + "encoder"}, true},
		{"inference", []string{"github.com/gin-gonic/gin"}, true},
		{"engine", []string{"net/http"}, true},
		{"server", []string{"net/http", module + "inference"}, false},
		{"newpkg", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.pkg+" "+strings.Join(tt.deps, ","), func(t *testing.T) {
			if got := violations(tt.pkg, tt.deps); (len(got) > 0) != tt.bad {
				t.Errorf("violations = %q, want bad=%v", got, tt.bad)
			}
		})
	}
}

// moduleImports lists, for every package directory of the module, the imports of its
// non-test Go files (all build tags: a cgo-only file counts as much as a pure-Go one). Nested
// modules (deploy/, with its own go.mod) are not part of this one and are skipped.
func moduleImports(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == "." {
				return nil
			}
			if name := d.Name(); strings.HasPrefix(name, ".") || name == "testdata" {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(filepath.Dir(path))
		deps := out[pkg]
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return err
			}
			if !slices.Contains(deps, p) {
				deps = append(deps, p)
			}
		}
		out[pkg] = deps // a package importing nothing is listed too
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < len(layers)/2 {
		t.Fatalf("found only %d packages: is the test running at the module root?", len(out))
	}
	return out
}
