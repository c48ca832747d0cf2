package encoder

import (
	"fmt"

	"github.com/coldserve/coldserve/internal/kernels"
	"github.com/coldserve/coldserve/weights"
)

// linear is one linear layer's parameters: W [out, in] in the checkpoint's layout and the bias
// [out]. A float32 encoder multiplies by w, a BFloat16 encoder by wb (W rounded to bfloat16);
// the kernels store either in the layout their GEMM wants, packed once at NewEncoder.
type linear struct {
	out, in int
	w       *kernels.Matrix
	wb      kernels.BF16Weights
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

// matrix is a row-major float32 matrix that shares its data with the checkpoint (the
// embeddings and the pooler; the layers' linears are linear).
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

// linear builds the linear layer of the prefixes' weights stacked by rows (one prefix, or
// query, key and value), each [out, in], with their biases concatenated: a kernels.Matrix, or
// with a bfloat16 backend its weights. Neither keeps the checkpoint's slices when the kernels
// copy them, so the checkpoint's weights can be freed once the caller drops it.
func (g *tensorGetter) linear(bf16 kernels.BF16, out, in int, prefixes ...string) linear {
	l := linear{out: out * len(prefixes), in: in}
	parts := make([][]float32, len(prefixes))
	for i, p := range prefixes {
		parts[i] = g.get(p+".weight", out, in)
		l.bias = append(l.bias, g.get(p+".bias", out)...)
	}
	if g.err != nil {
		return l
	}
	if bf16 != nil {
		l.wb, g.err = bf16.Weights(in, parts...)
	} else {
		l.w, g.err = kernels.NewMatrix(in, parts...)
	}
	return l
}

func (g *tensorGetter) norm(prefix string, n int) norm {
	return norm{gamma: g.get(prefix+".weight", n), beta: g.get(prefix+".bias", n)}
}

// newEncoderWeights gathers the encoder's tensors from ck, checking every shape against
// its config, and stacks each layer's query/key/value projections into one matrix so a
// single matrix multiply produces all three. bf16 is the bfloat16 backend of a BFloat16
// encoder, nil for float32.
func newEncoderWeights(ck *weights.Checkpoint, bf16 kernels.BF16) (*encoderWeights, error) {
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
		self := p + "attention.self."
		lw := layerWeights{
			qkv:      g.linear(bf16, h, h, self+"query", self+"key", self+"value"),
			attnOut:  g.linear(bf16, h, h, p+"attention.output.dense"),
			attnNorm: g.norm(p+"attention.output.LayerNorm", h),
			inter:    g.linear(bf16, f, h, p+"intermediate.dense"),
			out:      g.linear(bf16, h, f, p+"output.dense"),
			outNorm:  g.norm(p+"output.LayerNorm", h),
		}
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
