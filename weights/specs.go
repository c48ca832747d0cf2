package weights

import "fmt"

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
