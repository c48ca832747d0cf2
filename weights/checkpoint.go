package weights

// Tensor is a dense float32 tensor as stored in a checkpoint, row-major.
// Linear weights keep the checkpoint's [out, in] layout.
type Tensor struct {
	Shape []int
	Data  []float32
}

// NumElements is the product of the shape (1 for a scalar).
func (t *Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Checkpoint is a set of named float32 weights with the config that describes them.
//
// Keys are canonical: the "roberta." prefix is stripped and "lm_head.*" is dropped, so an
// encoder key reads "encoder.layer.3.output.dense.bias" whatever file it came from.
// Classification heads keep "classifier.dense.*" and "classifier.out_proj.*".
// A Checkpoint is never mutated after it is loaded; share it freely between goroutines.
type Checkpoint struct {
	Config  Config
	Tensors map[string]*Tensor
	// Source says where the weights came from (a directory, a hub id, "weightgen seed 0", "fuse(...)").
	Source string

	// memo caches what is derived from the immutable tensors (the ID) and what the loader
	// skipped. Load, LoadHead and Fuse set it; a Checkpoint built as a literal has none and
	// simply recomputes its ID on each call.
	memo *checkpointMemo
}
