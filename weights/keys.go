package weights

import (
	"strings"
)

// Checkpoint files name the same weights in several ways. RobertaModel.save_pretrained writes
// "embeddings.word_embeddings.weight"; RobertaForSequenceClassification and RobertaForMaskedLM
// write "roberta.embeddings.word_embeddings.weight"; MLM checkpoints add "lm_head.*"; older
// files carry the "embeddings.position_ids" buffer (int64) and TF-converted ones name
// LayerNorm parameters gamma/beta. canonicalKey maps all of them onto one canonical key set,
// the keys of TensorSpecs, as transformers does when it loads a RobertaModel.

// Head keys: HF's RobertaClassificationHead.
var headKeys = []string{
	"classifier.dense.weight", "classifier.dense.bias",
	"classifier.out_proj.weight", "classifier.out_proj.bias",
}

// canonicalKey returns the canonical key for a stored name, or ok=false when the tensor is not
// one this package uses (and is then skipped and reported, never loaded).
func canonicalKey(name string, known map[string][]int) (key string, ok bool) {
	key = strings.TrimPrefix(name, "roberta.")
	// TF-converted checkpoints: transformers renames LayerNorm gamma/beta on load.
	if strings.Contains(key, "LayerNorm.") {
		if k, found := strings.CutSuffix(key, ".gamma"); found {
			key = k + ".weight"
		} else if k, found := strings.CutSuffix(key, ".beta"); found {
			key = k + ".bias"
		}
	}
	if _, isKnown := known[key]; isKnown {
		return key, true
	}
	for _, h := range headKeys {
		if key == h {
			return key, true
		}
	}
	return "", false
}

// expectedIgnored reports names every loader meets and skips by design (so they are not worth
// a warning): the MLM head and the position-id buffers.
func expectedIgnored(name string) bool {
	key := strings.TrimPrefix(name, "roberta.")
	return strings.HasPrefix(key, "lm_head.") || strings.HasSuffix(key, "position_ids")
}

// knownKeys is the canonical encoder (and pooler) key set of cfg's geometry, with shapes.
func knownKeys(cfg Config) map[string][]int {
	specs := TensorSpecs(cfg, true, 0)
	m := make(map[string][]int, len(specs))
	for _, s := range specs {
		m[s.Key] = s.Shape
	}
	return m
}
