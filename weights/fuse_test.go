package weights

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

func tinyConfig(t *testing.T) Config {
	t.Helper()
	cfg, err := LoadConfig(filepath.Join(tinyDir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestFuseMatchesFloat64Mean checks Fuse against a weighted mean computed here, element by
// element in float64, for tiny_fused.json's recipe (seeds 0, 1, 2, equal weights) and a weighted
// variant. Inputs carry heads, which must not reach the result.
func TestFuseMatchesFloat64Mean(t *testing.T) {
	cfg := tinyConfig(t)
	var cks []*Checkpoint
	for seed := range uint64(3) {
		cks = append(cks, Generate(cfg, seed, GenerateOptions{NumLabels: 3}))
	}
	cases := []struct {
		name    string
		weights []float64
		eff     [3]float64 // effective weights the reference uses
	}{
		{"equal (tiny_fused.json)", nil, [3]float64{1, 1, 1}},
		{"weighted", []float64{1, 2, 0}, [3]float64{1, 2, 0}},
		{"scaled weights give the same mean", []float64{0.5, 1, 0}, [3]float64{0.5, 1, 0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fused, err := Fuse(cks, tc.weights)
			if err != nil {
				t.Fatal(err)
			}
			if err := fused.Validate(); err != nil {
				t.Fatal(err)
			}
			if fused.HasHead() || !fused.HasPooler() {
				t.Errorf("fused HasHead %v HasPooler %v, want no head and a pooler", fused.HasHead(), fused.HasPooler())
			}
			sum := tc.eff[0] + tc.eff[1] + tc.eff[2]
			specs := TensorSpecs(cfg, true, 0)
			if len(fused.Tensors) != len(specs) {
				t.Errorf("fused has %d tensors, want %d", len(fused.Tensors), len(specs))
			}
			for _, s := range specs {
				got := fused.Tensors[s.Key]
				for i := range got.Data {
					var m float64
					for k := range cks {
						m += tc.eff[k] * float64(cks[k].Tensors[s.Key].Data[i])
					}
					if want := float32(m / sum); got.Data[i] != want {
						t.Fatalf("%s[%d] = %.9g, want %.9g", s.Key, i, got.Data[i], want)
					}
				}
			}
		})
	}
	a, err := Fuse(cks, []float64{1, 2, 0})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Fuse(cks, []float64{0.5, 1, 0})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID() != b.ID() {
		t.Errorf("proportional weights give different checkpoints: %s vs %s", a.ID(), b.ID())
	}
	if a.ID() == cks[0].ID() {
		t.Errorf("fused ID equals an input's ID")
	}
}

func TestFuseSingleIsIdentityOnEncoder(t *testing.T) {
	ck := Generate(tinyConfig(t), 7, GenerateOptions{})
	fused, err := Fuse([]*Checkpoint{ck}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fused.ID() != ck.ID() {
		t.Errorf("Fuse of one checkpoint changed it: %s vs %s", fused.ID(), ck.ID())
	}
}

func TestFusePoolerOnlyIfAllHaveIt(t *testing.T) {
	cfg := tinyConfig(t)
	fused, err := Fuse([]*Checkpoint{
		Generate(cfg, 0, GenerateOptions{}),
		Generate(cfg, 1, GenerateOptions{NoPooler: true}),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fused.HasPooler() {
		t.Error("fused checkpoint has a pooler though one input lacks it")
	}
}

func TestFuseErrors(t *testing.T) {
	cfg := tinyConfig(t)
	ok0 := Generate(cfg, 0, GenerateOptions{})
	ok1 := Generate(cfg, 1, GenerateOptions{})
	deeper := cfg
	deeper.NumHiddenLayers = 3
	wider := cfg
	wider.IntermediateSize = 128
	otherEps := cfg
	otherEps.LayerNormEps = 1e-12
	broken := Generate(cfg, 2, GenerateOptions{})
	delete(broken.Tensors, "encoder.layer.1.output.dense.bias")
	nan := Generate(cfg, 3, GenerateOptions{})
	nan.Tensors["embeddings.LayerNorm.bias"].Data[5] = float32(math.NaN())

	cases := []struct {
		name    string
		cks     []*Checkpoint
		weights []float64
		check   func(error) bool
		mention string
	}{
		{"no checkpoints", nil, nil, nil, "no checkpoints"},
		{"weight count", []*Checkpoint{ok0, ok1}, []float64{1}, nil, "1 weights for 2"},
		{"negative weight", []*Checkpoint{ok0, ok1}, []float64{1, -1}, nil, "weight 1"},
		{"NaN weight", []*Checkpoint{ok0, ok1}, []float64{math.NaN(), 1}, nil, "weight 0"},
		{"infinite weight", []*Checkpoint{ok0, ok1}, []float64{math.Inf(1), 1}, nil, "weight 0"},
		{"zero weights", []*Checkpoint{ok0, ok1}, []float64{0, 0}, nil, "sum"},
		{"nil checkpoint", []*Checkpoint{ok0, nil}, nil, nil, "checkpoint 1"},
		{"more layers", []*Checkpoint{ok0, Generate(deeper, 1, GenerateOptions{})}, nil, isConfigField("num_hidden_layers"), "num_hidden_layers"},
		{"wider FFN", []*Checkpoint{ok0, Generate(wider, 1, GenerateOptions{})}, nil, isConfigField("intermediate_size"), "intermediate_size"},
		{"other eps", []*Checkpoint{ok0, Generate(otherEps, 1, GenerateOptions{})}, nil, isConfigField("layer_norm_eps"), "layer_norm_eps"},
		{"missing tensor", []*Checkpoint{ok0, broken}, nil, isType[*MissingTensorError], "encoder.layer.1.output.dense.bias"},
		{"NaN weights", []*Checkpoint{nan, ok0}, nil, isType[*NonFiniteError], "embeddings.LayerNorm.bias"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Fuse(tc.cks, tc.weights)
			if err == nil {
				t.Fatalf("Fuse succeeded (%s), want an error", got.Source)
			}
			if tc.check != nil && !tc.check(err) {
				t.Errorf("error %v has the wrong type", err)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("error %q does not mention %q", err, tc.mention)
			}
		})
	}
}

func isType[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

func isConfigField(field string) func(error) bool {
	return func(err error) bool {
		var ce *ConfigError
		return errors.As(err, &ce) && ce.Field == field
	}
}
