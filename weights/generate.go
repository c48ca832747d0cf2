package weights

import (
	"fmt"
	"strings"

	"github.com/coldserve/coldserve/internal/weightgen"
)

// GenerateOptions chooses which optional parts a generated checkpoint has.
type GenerateOptions struct {
	// Prefix is prepended to encoder keys when generating values ("roberta." for
	// *ForSequenceClassification checkpoints); stored keys are canonical either way.
	Prefix string
	// NoPooler leaves out pooler.dense.* (as RobertaForSequenceClassification does).
	NoPooler bool
	// NumLabels > 0 adds a classification head (classifier.dense.*, classifier.out_proj.*).
	NumLabels int
}

// Generate builds the weightgen checkpoint of cfg's geometry for seed.
func Generate(cfg Config, seed uint64, opts GenerateOptions) *Checkpoint {
	ck := &Checkpoint{Config: cfg, Tensors: map[string]*Tensor{}, Source: fmt.Sprintf("weightgen seed %d", seed)}
	for _, spec := range TensorSpecs(cfg, !opts.NoPooler, opts.NumLabels) {
		genKey := spec.Key
		if !strings.HasPrefix(spec.Key, "classifier.") {
			genKey = opts.Prefix + spec.Key
		}
		t := &Tensor{Shape: spec.Shape}
		t.Data = weightgen.Tensor(genKey, t.NumElements(), seed)
		ck.Tensors[spec.Key] = t
	}
	return ck
}

// WriteGenerated writes the weightgen checkpoint of cfg's geometry for seed to dir, for
// tests and benchmarks that need a checkpoint on disk (a full roberta-base is about 500 MB):
// it is SaveDir(dir, Generate(cfg, seed, opts)).
func WriteGenerated(dir string, cfg Config, seed uint64, opts GenerateOptions) error {
	return SaveDir(dir, Generate(cfg, seed, opts))
}
