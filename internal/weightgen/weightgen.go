package model

import (
	"fmt"
	"strings"
)

// Weightgen fills a checkpoint of any geometry from a 64-bit seed, bit for bit like the
// reference weightgen.py: every parameter is a pure function of its checkpoint key and the seed.
// It exists so tests and benchmarks can rebuild full-size checkpoints instead of shipping them.

// WeightgenTensor returns the n values of the tensor stored under key.
func WeightgenTensor(key string, n int, seed uint64) []float32 {
	const (
		golden = 0x9E3779B97F4A7C15
		m1     = 0xBF58476D1CE4E5B9
		m2     = 0x94D049BB133111EB
	)
	scale, offset := weightgenScale(key)
	state := fnv1a64(key) ^ seed
	out := make([]float32, n)
	for i := range out {
		z := state + uint64(i+1)*golden
		z = (z ^ (z >> 30)) * m1
		z = (z ^ (z >> 27)) * m2
		z ^= z >> 31
		u := float32(z>>40)*(1.0/(1<<23)) - 1
		// The explicit conversion rounds the product, so no fused multiply-add is formed.
		out[i] = float32(u*scale) + offset
	}
	return out
}

func fnv1a64(key string) uint64 {
	h := uint64(0xcbf29ce484222325)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 0x100000001b3
	}
	return h
}

func weightgenScale(key string) (scale, offset float32) {
	switch {
	case strings.HasSuffix(key, "LayerNorm.weight"):
		return 0.2, 1
	case strings.HasSuffix(key, "LayerNorm.bias"):
		return 0.1, 0
	case strings.Contains(key, "embeddings.") && strings.HasSuffix(key, ".weight"):
		return 0.1, 0
	case strings.HasSuffix(key, ".bias"):
		return 0.05, 0
	default:
		return 0.08, 0
	}
}

// WeightgenOptions chooses which optional parts a generated checkpoint has.
type WeightgenOptions struct {
	// Prefix is prepended to encoder keys when generating values ("roberta." for
	// *ForSequenceClassification checkpoints); stored keys are canonical either way.
	Prefix string
	// NoPooler leaves out pooler.dense.* (as RobertaForSequenceClassification does).
	NoPooler bool
	// NumLabels > 0 adds a classification head (classifier.dense.*, classifier.out_proj.*).
	NumLabels int
}

// Weightgen builds the checkpoint of cfg's geometry for seed.
func Weightgen(cfg Config, seed uint64, opts WeightgenOptions) *Checkpoint {
	ck := &Checkpoint{Config: cfg, Tensors: map[string]*Tensor{}, Source: fmt.Sprintf("weightgen seed %d", seed)}
	for _, spec := range TensorSpecs(cfg, !opts.NoPooler, opts.NumLabels) {
		genKey := spec.Key
		if !strings.HasPrefix(spec.Key, "classifier.") {
			genKey = opts.Prefix + spec.Key
		}
		t := &Tensor{Shape: spec.Shape}
		t.Data = WeightgenTensor(genKey, t.NumElements(), seed)
		ck.Tensors[spec.Key] = t
	}
	return ck
}

// TensorSpec names one tensor a checkpoint of a given geometry holds, with its shape.
type TensorSpec struct {
	Key   string
	Shape []int
}

// TensorSpecs lists the canonical tensors of cfg's geometry, in checkpoint order.
// withPooler adds pooler.dense.*; numLabels > 0 adds a classification head.
func TensorSpecs(cfg Config, withPooler bool, numLabels int) []TensorSpec {
	h, f := cfg.HiddenSize, cfg.IntermediateSize
	specs := []TensorSpec{
		{"embeddings.word_embeddings.weight", []int{cfg.VocabSize, h}},
		{"embeddings.position_embeddings.weight", []int{cfg.MaxPositionEmbeddings, h}},
		{"embeddings.token_type_embeddings.weight", []int{cfg.TypeVocabSize, h}},
		{"embeddings.LayerNorm.weight", []int{h}},
		{"embeddings.LayerNorm.bias", []int{h}},
	}
	linear := func(key string, out, in int) {
		specs = append(specs, TensorSpec{key + ".weight", []int{out, in}}, TensorSpec{key + ".bias", []int{out}})
	}
	norm := func(key string) {
		specs = append(specs, TensorSpec{key + ".weight", []int{h}}, TensorSpec{key + ".bias", []int{h}})
	}
	for l := 0; l < cfg.NumHiddenLayers; l++ {
		p := fmt.Sprintf("encoder.layer.%d.", l)
		linear(p+"attention.self.query", h, h)
		linear(p+"attention.self.key", h, h)
		linear(p+"attention.self.value", h, h)
		linear(p+"attention.output.dense", h, h)
		norm(p + "attention.output.LayerNorm")
		linear(p+"intermediate.dense", f, h)
		linear(p+"output.dense", h, f)
		norm(p + "output.LayerNorm")
	}
	if withPooler {
		linear("pooler.dense", h, h)
	}
	if numLabels > 0 {
		linear("classifier.dense", h, h)
		linear("classifier.out_proj", numLabels, h)
	}
	return specs
}
