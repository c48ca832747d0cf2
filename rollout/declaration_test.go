package rollout

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	gate := func(v float64) *float64 { return &v }
	for _, tc := range []struct {
		name, doc string
		want      Declaration
		err       string // a part of the error; "" when it parses
	}{
		{"yaml", "source: ibm/ColD-Fusion-itr13-seed0\nrevision: v1\n", Declaration{Source: "ibm/ColD-Fusion-itr13-seed0", Revision: "v1"}, ""},
		{"revision defaults to main", "source: itr14\n", Declaration{Source: "itr14", Revision: "main"}, ""},
		{"every field", "# from the chart\nsource: org/m\nrevision: \"0123456\"\nsha256: sha256:3f2a9c0d17be\nmin_cosine: 0.98\nallow_geometry_change: true\n",
			Declaration{Source: "org/m", Revision: "0123456", SHA256: "sha256:3f2a9c0d17be", MinCosine: gate(0.98), AllowGeometryChange: true}, ""},
		{"json", `{"source": "org/m", "min_cosine": 0}`, Declaration{Source: "org/m", Revision: "main", MinCosine: gate(0)}, ""},
		{"gate of one", "source: m\nmin_cosine: 1", Declaration{Source: "m", Revision: "main", MinCosine: gate(1)}, ""},
		{"empty", "", Declaration{}, "source is required"},
		{"blank source", "source: '  '\n", Declaration{}, "source is required"},
		{"unknown field", "source: m\nmin_cosin: 0.9\n", Declaration{}, `unknown field "min_cosin"`},
		{"repeated field", "source: a\nsource: b\n", Declaration{}, "already defined"},
		{"unquoted numeric revision", "source: m\nrevision: 0123456\n", Declaration{}, "revision: want a string"},
		{"numeric source", "source: 12345\n", Declaration{}, "source: want a string"},
		{"bad sha256", "source: m\nsha256: xyz\n", Declaration{}, "sha256"},
		{"gate above one", "source: m\nmin_cosine: 1.5\n", Declaration{}, "min_cosine 1.5"},
		{"negative gate", "source: m\nmin_cosine: -0.1\n", Declaration{}, "min_cosine -0.1"},
		{"gate not a number", "source: m\nmin_cosine: .nan\n", Declaration{}, "min_cosine NaN"},
		{"gate a word", "source: m\nmin_cosine: high\n", Declaration{}, "cannot unmarshal"},
		{"not a mapping", "- source: m\n", Declaration{}, "mapping"},
		{"yes is not a bool", "source: m\nallow_geometry_change: yes\n", Declaration{}, "cannot unmarshal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.doc))
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("Parse: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("Parse = %+v, %v; want an error with %q", got, err, tc.err)
			case tc.err == "" && !reflect.DeepEqual(got, tc.want):
				t.Fatalf("Parse = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// The file is read whole but bounded, and a missing one names its path.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("source: m\n#"+strings.Repeat("x", MaxFileBytes)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := read(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("an oversized file: %v", err)
	}
	missing := filepath.Join(dir, "absent.yaml")
	if _, _, err := read(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("a missing file: %v", err)
	}
}
