package rollout

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/coldserve/coldserve/inference"
	"github.com/coldserve/coldserve/weights"
)

// Declaration is the declared checkpoint: the document --checkpoint-file holds, in YAML or JSON
// (JSON is YAML too):
//
//	source: ibm/ColD-Fusion-itr13-seed0   # a Hub id or a directory (the admin API's rules apply)
//	revision: main                        # Hub branch, tag or commit sha (default main)
//	sha256: sha256:3f2a9c0d17be           # optional: the expected weights digest (12 to 64 hex digits)
//	min_cosine: 0.98                      # optional: the drift gate, a cosine similarity from 0 to 1
//	allow_geometry_change: false          # optional: accept another hidden size, vocabulary, ...
type Declaration struct {
	Source              string   `yaml:"source" json:"source"`
	Revision            string   `yaml:"revision" json:"revision,omitempty"`
	SHA256              string   `yaml:"sha256" json:"sha256,omitempty"`
	MinCosine           *float64 `yaml:"min_cosine" json:"min_cosine,omitempty"`
	AllowGeometryChange bool     `yaml:"allow_geometry_change" json:"allow_geometry_change,omitempty"`
}

// MaxFileBytes bounds the declaration file: it holds five short fields, so anything larger is
// not one (a wrong path, say) and is refused before it is parsed.
const MaxFileBytes = 64 << 10

// stringFields must be YAML strings: unquoted, `revision: 0123456` would be read as the octal
// number 42798, and a numeric-looking commit or digest would silently change.
var stringFields = []string{"source", "revision", "sha256"}

// Parse reads a declaration strictly: one YAML (or JSON) mapping with no unknown or repeated
// field, source present, revision, source and sha256 written as strings, sha256 in the form
// the admin API accepts, and min_cosine from 0 to 1. A missing revision means main.
func Parse(data []byte) (Declaration, error) {
	var d Declaration
	if err := yaml.UnmarshalWithOptions(data, &d, yaml.Strict()); err != nil {
		return Declaration{}, fmt.Errorf("parse: %w", err)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return Declaration{}, fmt.Errorf("parse: %w", err)
	}
	for _, f := range stringFields {
		if v, ok := raw[f]; ok && v != nil {
			if _, isString := v.(string); !isString {
				return Declaration{}, fmt.Errorf("%s: want a string, got %v: quote it (%s: \"%v\")", f, v, f, v)
			}
		}
	}
	d.Source = strings.TrimSpace(d.Source)
	d.Revision = strings.TrimSpace(d.Revision)
	if d.Source == "" {
		return Declaration{}, errors.New("source is required: a Hub id such as ibm/ColD-Fusion or a directory under a --checkpoint-root")
	}
	if d.Revision == "" {
		d.Revision = "main"
	}
	if d.SHA256 != "" {
		if _, err := weights.ParseExpected(d.SHA256); err != nil {
			return Declaration{}, err
		}
	}
	if err := inference.CheckMinCosine(d.MinCosine); err != nil {
		return Declaration{}, err
	}
	return d, nil
}

// readFile reads path (following symlinks: a ConfigMap volume swaps one) up to MaxFileBytes.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes: not a checkpoint declaration", path, MaxFileBytes)
	}
	return data, nil
}

// version identifies a file content: the first 12 hex digits of its SHA-256.
type version [sha256.Size]byte

func (v version) String() string { return fmt.Sprintf("%x", v[:6]) }
