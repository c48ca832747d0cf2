package encoder

import (
	"fmt"

	"gorgonia.org/tensor"

	"github.com/coldserve/coldserve/weights"
)

// layerParam indexes the per-layer weights bound into the single-layer graph.
type layerParam int

const (
	pQKVWeight     layerParam = iota // [3·hidden, hidden]: query, key and value rows stacked
	pQKVBias                         // [1, 3·hidden]
	pAttnOutWeight                   // [hidden, hidden]
	pAttnOutBias                     // [1, hidden]
	pAttnNormGamma                   // [1, hidden]
	pAttnNormBeta                    // [1, hidden]
	pInterWeight                     // [ffn, hidden]
	pInterBias                       // [1, ffn]
	pOutWeight                       // [hidden, ffn]
	pOutBias                         // [1, hidden]
	pOutNormGamma                    // [1, hidden]
	pOutNormBeta                     // [1, hidden]
	numLayerParams
)

// matrix is a row-major float32 matrix that shares its data with the checkpoint
// (or, for the stacked QKV projection, with a copy made once at NewEncoder). A bfloat16
// matrix (see DType) has bits instead of data.
type matrix struct {
	rows, cols int
	data       []float32
	bits       []uint16
}

// dense returns a new tensor header over m's data. Each worker gets its own headers:
// Gorgonia writes into a bound tensor's header (its engine), so sharing one header
// between machines used by different goroutines is a data race, while sharing the
// underlying []float32 is not.
func (m matrix) dense() *tensor.Dense {
	if m.bits != nil {
		return tensor.New(tensor.WithShape(m.rows, m.cols), tensor.WithBacking(m.bits))
	}
	return tensor.New(tensor.WithShape(m.rows, m.cols), tensor.WithBacking(m.data))
}

// encoderWeights are the parameters of the whole encoder in the layout the ops want.
type encoderWeights struct {
	word, position, tokenType matrix // embeddings: [vocab, h], [positions, h], [types, h]
	embGamma, embBeta         []float32
	layers                    [][numLayerParams]matrix
	poolerW                   *matrix // nil without a pooler
	poolerB                   []float32
}

// tensorGetter fetches and shape-checks checkpoint tensors, remembering the first error.
type tensorGetter struct {
	ck  *weights.Checkpoint
	err error
}

func (g *tensorGetter) get(key string, shape ...int) []float32 {
	if g.err != nil {
		return nil
	}
	t, ok := g.ck.Tensors[key]
	if !ok || t == nil {
		g.err = fmt.Errorf("tensor %s: missing", key)
		return nil
	}
	n := 1
	ok = len(t.Shape) == len(shape)
	for i, d := range shape {
		n *= d
		if ok && t.Shape[i] != d {
			ok = false
		}
	}
	if !ok || len(t.Data) != n {
		g.err = fmt.Errorf("tensor %s: shape %v (%d values), want %v", key, t.Shape, len(t.Data), shape)
		return nil
	}
	return t.Data
}

func (g *tensorGetter) matrix(key string, rows, cols int) matrix {
	return matrix{rows: rows, cols: cols, data: g.get(key, rows, cols)}
}

func (g *tensorGetter) vector(key string, n int) matrix {
	return matrix{rows: 1, cols: n, data: g.get(key, n)}
}

// newEncoderWeights gathers the encoder's tensors from ck, checking every shape against
// its config, and stacks each layer's query/key/value projections into one matrix so a
// single matrix multiply produces all three.
func newEncoderWeights(ck *weights.Checkpoint) (*encoderWeights, error) {
	c := ck.Config
	h, f := c.HiddenSize, c.IntermediateSize
	g := &tensorGetter{ck: ck}
	w := &encoderWeights{
		word:      g.matrix("embeddings.word_embeddings.weight", c.VocabSize, h),
		position:  g.matrix("embeddings.position_embeddings.weight", c.MaxPositionEmbeddings, h),
		tokenType: g.matrix("embeddings.token_type_embeddings.weight", c.TypeVocabSize, h),
		embGamma:  g.get("embeddings.LayerNorm.weight", h),
		embBeta:   g.get("embeddings.LayerNorm.bias", h),
	}
	for l := 0; l < c.NumHiddenLayers && g.err == nil; l++ {
		p := fmt.Sprintf("encoder.layer.%d.", l)
		var lw [numLayerParams]matrix
		qkvW := make([]float32, 0, 3*h*h)
		qkvB := make([]float32, 0, 3*h)
		for _, name := range []string{"query", "key", "value"} {
			qkvW = append(qkvW, g.get(p+"attention.self."+name+".weight", h, h)...)
			qkvB = append(qkvB, g.get(p+"attention.self."+name+".bias", h)...)
		}
		lw[pQKVWeight] = matrix{rows: 3 * h, cols: h, data: qkvW}
		lw[pQKVBias] = matrix{rows: 1, cols: 3 * h, data: qkvB}
		lw[pAttnOutWeight] = g.matrix(p+"attention.output.dense.weight", h, h)
		lw[pAttnOutBias] = g.vector(p+"attention.output.dense.bias", h)
		lw[pAttnNormGamma] = g.vector(p+"attention.output.LayerNorm.weight", h)
		lw[pAttnNormBeta] = g.vector(p+"attention.output.LayerNorm.bias", h)
		lw[pInterWeight] = g.matrix(p+"intermediate.dense.weight", f, h)
		lw[pInterBias] = g.vector(p+"intermediate.dense.bias", f)
		lw[pOutWeight] = g.matrix(p+"output.dense.weight", h, f)
		lw[pOutBias] = g.vector(p+"output.dense.bias", h)
		lw[pOutNormGamma] = g.vector(p+"output.LayerNorm.weight", h)
		lw[pOutNormBeta] = g.vector(p+"output.LayerNorm.bias", h)
		w.layers = append(w.layers, lw)
	}
	if _, ok := ck.Tensors["pooler.dense.weight"]; ok && g.err == nil {
		pw := g.matrix("pooler.dense.weight", h, h)
		w.poolerW = &pw
		w.poolerB = g.get("pooler.dense.bias", h)
	}
	if g.err != nil {
		return nil, g.err
	}
	return w, nil
}
