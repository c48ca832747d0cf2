package encoder

import (
	"fmt"

	"github.com/coldserve/coldserve/weights"
)

// linear is one linear layer's parameters: W [out, in] in the checkpoint's layout and the bias
// [out]. A float32 encoder multiplies by w; a BFloat16 encoder by bits, W rounded to
// bfloat16.
type linear struct {
	out, in int
	w       []float32
	bits    []uint16
	bias    []float32
}

// layerWeights are one encoder layer's parameters. The layer machine reads them from the
// layer it is running (layerMachine.runLayer), so all layers share one compiled graph.
type layerWeights struct {
	qkv      linear // query, key and value rows stacked: [3·hidden, hidden]
	attnOut  linear // [hidden, hidden]
	inter    linear // [ffn, hidden]
	out      linear // [hidden, ffn]
	attnNorm norm   // after the attention block
	outNorm  norm   // after the feed-forward block
}

// norm is a LayerNorm's scale and shift, [hidden] each.
type norm struct{ gamma, beta []float32 }

// matrix is a row-major float32 matrix that shares its data with the checkpoint.
type matrix struct {
	rows, cols int
	data       []float32
}

// encoderWeights are the parameters of the whole encoder in the layout the ops want.
type encoderWeights struct {
	word, position, tokenType matrix // embeddings: [vocab, h], [positions, h], [types, h]
	embGamma, embBeta         []float32
	layers                    []layerWeights
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

func (g *tensorGetter) linear(prefix string, out, in int) linear {
	return linear{out: out, in: in, w: g.get(prefix+".weight", out, in), bias: g.get(prefix+".bias", out)}
}

func (g *tensorGetter) norm(prefix string, n int) norm {
	return norm{gamma: g.get(prefix+".weight", n), beta: g.get(prefix+".bias", n)}
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
		lw := layerWeights{qkv: linear{out: 3 * h, in: h, w: make([]float32, 0, 3*h*h), bias: make([]float32, 0, 3*h)}}
		for _, name := range []string{"query", "key", "value"} {
			q := g.linear(p+"attention.self."+name, h, h)
			lw.qkv.w = append(lw.qkv.w, q.w...)
			lw.qkv.bias = append(lw.qkv.bias, q.bias...)
		}
		lw.attnOut = g.linear(p+"attention.output.dense", h, h)
		lw.attnNorm = g.norm(p+"attention.output.LayerNorm", h)
		lw.inter = g.linear(p+"intermediate.dense", f, h)
		lw.out = g.linear(p+"output.dense", h, f)
		lw.outNorm = g.norm(p+"output.LayerNorm", h)
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
