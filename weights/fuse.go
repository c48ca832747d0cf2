package weights

import (
	"fmt"
	"math"
	"strings"
)

// Fuse is ColD Fusion's fuse step: the weighted element-wise mean of several checkpoints'
// encoder parameters. Each contributor finetunes the shared model on its own data; fusing their
// encoders gives the next iteration's shared model (Don-Yehiya et al., "ColD Fusion", 2023).
//
// Only encoder parameters are fused: embeddings, every layer, and the pooler when every input
// has one. Classification heads are task-specific and are left out (attach one with LoadHead).
// weights nil means equal weights; otherwise there is one non-negative finite weight per
// checkpoint, and the result is Σ wᵢ·θᵢ / Σ wᵢ, so weights need not sum to 1. Sums run in float64
// and are rounded to float32 once, so the result does not depend on the order of inputs beyond
// float64 rounding. Every input is validated; differing geometry is a *ConfigError.
func Fuse(cks []*Checkpoint, weights []float64) (*Checkpoint, error) {
	if len(cks) == 0 {
		return nil, fmt.Errorf("fuse: no checkpoints")
	}
	if weights == nil {
		weights = make([]float64, len(cks))
		for i := range weights {
			weights[i] = 1
		}
	}
	if len(weights) != len(cks) {
		return nil, fmt.Errorf("fuse: %d weights for %d checkpoints", len(weights), len(cks))
	}
	var total float64
	for i, w := range weights {
		if !(w >= 0) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("fuse: weight %d is %v; weights must be finite and non-negative", i, w)
		}
		total += w
	}
	if !(total > 0) || math.IsInf(total, 0) {
		return nil, fmt.Errorf("fuse: weights sum to %v; need a positive finite sum", total)
	}
	withPooler := true
	sources := make([]string, len(cks))
	for i, ck := range cks {
		if ck == nil {
			return nil, fmt.Errorf("fuse: checkpoint %d is nil", i)
		}
		if err := ck.Validate(); err != nil {
			return nil, fmt.Errorf("fuse: checkpoint %d: %w", i, err)
		}
		if err := sameGeometry(cks[0].Config, ck.Config); err != nil {
			return nil, fmt.Errorf("fuse: checkpoint %d (%s) differs from checkpoint 0 (%s): %w", i, ck.Source, cks[0].Source, err)
		}
		withPooler = withPooler && ck.HasPooler()
		sources[i] = ck.Source
	}

	cfg := cks[0].Config
	cfg.Architectures = []string{"RobertaModel"}
	cfg.ID2Label, cfg.Label2ID, cfg.ProblemType = nil, nil, ""
	tensors := map[string]*Tensor{}
	for _, spec := range TensorSpecs(cfg, withPooler, 0) {
		tensors[spec.Key] = fuseTensor(cks, weights, total, spec)
	}
	source := "fuse(" + strings.Join(sources, ", ") + ")"
	if !allEqual(weights) {
		source = fmt.Sprintf("fuse(%s; weights %v)", strings.Join(sources, ", "), weights)
	}
	return newCheckpoint(cfg, tensors, source, nil), nil
}

// fuseTensor averages one tensor, in blocks so the float64 accumulator stays small.
func fuseTensor(cks []*Checkpoint, weights []float64, total float64, spec TensorSpec) *Tensor {
	const block = 4096
	out := &Tensor{Shape: append([]int(nil), spec.Shape...)}
	out.Data = make([]float32, out.NumElements())
	var acc [block]float64
	for start := 0; start < len(out.Data); start += block {
		end := min(start+block, len(out.Data))
		a := acc[:end-start]
		clear(a)
		for k, ck := range cks {
			w := weights[k]
			for i, v := range ck.Tensors[spec.Key].Data[start:end] {
				a[i] += w * float64(v)
			}
		}
		for i := range a {
			out.Data[start+i] = float32(a[i] / total)
		}
	}
	return out
}

// sameGeometry reports, as a *ConfigError, the first config field that makes two encoders
// compute different functions of the same parameters (or hold parameters of different shapes).
func sameGeometry(a, b Config) error {
	fields := []struct {
		name string
		x, y any
	}{
		{"vocab_size", a.VocabSize, b.VocabSize},
		{"hidden_size", a.HiddenSize, b.HiddenSize},
		{"num_hidden_layers", a.NumHiddenLayers, b.NumHiddenLayers},
		{"num_attention_heads", a.NumAttentionHeads, b.NumAttentionHeads},
		{"intermediate_size", a.IntermediateSize, b.IntermediateSize},
		{"max_position_embeddings", a.MaxPositionEmbeddings, b.MaxPositionEmbeddings},
		{"type_vocab_size", a.TypeVocabSize, b.TypeVocabSize},
		{"layer_norm_eps", a.LayerNormEps, b.LayerNormEps},
		{"pad_token_id", a.PadTokenID, b.PadTokenID},
		{"hidden_act", a.HiddenAct, b.HiddenAct},
	}
	for _, f := range fields {
		if f.x != f.y {
			return &ConfigError{Field: f.name, Reason: fmt.Sprintf("%v vs %v", f.y, f.x)}
		}
	}
	return nil
}

func allEqual(ws []float64) bool {
	for _, w := range ws {
		if w != ws[0] {
			return false
		}
	}
	return true
}
