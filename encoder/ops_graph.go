package encoder

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/coldserve/coldserve/internal/kernels"
)

// The encoder layer is a Gorgonia graph of four custom ops (linear with fused bias and
// optional GELU, fused masked multi-head attention, add+LayerNorm). Gorgonia has no Erf or
// LayerNorm op, its SoftMax is wrong for rows far from the tensor's first element, and its
// built-in ops re-allocate every intermediate on every run; these ops compute in place into
// buffers drawn from a per-worker scratch (ops_scratch.go), so steady-state runs allocate
// no tensors.
//
// Because outputs alias scratch memory, whatever a caller keeps must be copied out before
// the worker's next run.

// opBase holds what all custom ops share: a name, the worker scratch, the output slot and
// a cached *tensor.Dense header over the slot's memory (rebuilt only if the slot grew).
type opBase struct {
	name string
	sc   *scratch
	slot int
	out  *tensor.Dense
}

// output returns the op's output tensor of the given shape over its scratch slot.
func (o *opBase) output(rows, cols int) (*tensor.Dense, []float32) {
	buf := o.sc.get(o.slot, rows*cols)
	if o.out != nil {
		if data := o.out.Data().([]float32); len(data) > 0 && &data[0] == &buf[0] {
			return o.out, buf
		}
	}
	o.out = tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(buf))
	return o.out, buf
}

func (o *opBase) ReturnsPtr() bool     { return false }
func (o *opBase) CallsExtern() bool    { return false }
func (o *opBase) OverwritesInput() int { return -1 }
func (o *opBase) String() string       { return o.name }

// WriteHash includes the instance's address: ops with per-instance state must never be
// merged by Gorgonia's common-subexpression elimination.
func (o *opBase) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s@%p", o.name, o) }

func (o *opBase) hashcode(self interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	self.WriteHash(h)
	return h.Sum32()
}

var matF32 = G.TensorType{Dims: 2, Of: tensor.Float32}

// matrixType is the Hindley–Milner type of an op taking arity float32 matrices to one.
func matrixType(arity int) hm.Type {
	ts := make([]hm.Type, arity+1)
	for i := range ts {
		ts[i] = matF32
	}
	return hm.NewFnType(ts...)
}

// float32s checks that v is a rows×cols float32 matrix and returns its backing slice.
func float32s(v G.Value, what string, rows, cols int) ([]float32, error) {
	d, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("%s: got %T, want *tensor.Dense", what, v)
	}
	if s := d.Shape(); len(s) != 2 || s[0] != rows || s[1] != cols {
		return nil, fmt.Errorf("%s: shape %v, want (%d, %d)", what, s, rows, cols)
	}
	data, ok := d.Data().([]float32)
	if !ok {
		return nil, fmt.Errorf("%s: dtype %v, want float32", what, d.Dtype())
	}
	return data, nil
}

func shapesOf(ds []G.DimSizer) ([]tensor.Shape, error) {
	return G.DimSizersToShapes(ds)
}

// layerRef is the layer a machine is running: runLayer points it at each layer's weights in
// turn and the ops read their parameters through it, so one compiled graph serves all layers.
type layerRef struct{ cur *layerWeights }

// linearOp computes Y = X·Wᵀ + b with the current layer's linear that pick chooses (W in the
// checkpoint's [out, in] layout), optionally followed by the exact GELU. Input: X [n, in];
// output [n, width]. With a bfloat16 backend, W is bfloat16 and X is rounded to bfloat16
// first, and the op's bfloat16 product (for its machine's n rows) is made on first use: the
// op's linear has the same shape in every layer, so one product serves them all.
type linearOp struct {
	opBase
	layer *layerRef
	pick  func(*layerWeights) *linear
	width int
	gelu  bool
	bf16  kernels.BF16 // nil: float32
	prod  kernels.BF16Product
}

func (o *linearOp) close() {
	if o.prod != nil {
		o.prod.Close()
		o.prod = nil
	}
}

func (o *linearOp) Arity() int       { return 1 }
func (o *linearOp) Type() hm.Type    { return matrixType(1) }
func (o *linearOp) Hashcode() uint32 { return o.hashcode(o) }

func (o *linearOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(ds)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{s[0][0], o.width}, nil
}

func (o *linearOp) Do(vs ...G.Value) (G.Value, error) {
	lin := o.pick(o.layer.cur)
	xs := vs[0].Shape()
	if len(xs) != 2 || xs[1] != lin.in || lin.out != o.width {
		return nil, fmt.Errorf("%s: x %v does not fit weights [%d, %d] (graph width %d)", o.name, xs, lin.out, lin.in, o.width)
	}
	n, in, out := xs[0], lin.in, lin.out
	x, err := float32s(vs[0], o.name+" x", n, in)
	if err != nil {
		return nil, err
	}
	y, buf := o.output(n, out)
	if o.bf16 != nil {
		if err := o.linearBF16(buf, x, lin); err != nil {
			return nil, fmt.Errorf("%s: %w", o.name, err)
		}
		return y, nil
	}
	lin.w.Linear(buf, x, n, lin.bias)
	if o.gelu {
		kernels.ParallelFor(n, 16, func(lo, hi int) { kernels.GELU(buf[lo*out : hi*out]) })
	}
	return y, nil
}

// linearBF16 rounds x to bfloat16 and runs the op's bfloat16 product (bias and GELU included).
func (o *linearOp) linearBF16(out, x []float32, lin *linear) error {
	n, in := len(x)/lin.in, lin.in
	if o.prod == nil {
		p, err := o.bf16.Product(n, lin.out, in, o.gelu)
		if err != nil {
			return err
		}
		o.prod = p
	}
	xb := kernels.BF16View(o.sc.get(slotBF16, (n*in+1)/2))[:n*in]
	kernels.ParallelFor(n, 16, func(lo, hi int) { kernels.ToBF16s(xb[lo*in:hi*in], x[lo*in:hi*in]) })
	return o.prod.Run(out, xb, lin.wb, lin.bias)
}

// attentionOp is fused multi-head self-attention over a packed batch (sequences back to
// back, no padding). Inputs: the projections QKV [tokens, 3·hidden] (query | key | value,
// each head a contiguous headDim block) and lens [1, tokens], each token's sequence length
// (a sequence of length L is L consecutive rows). Per sequence and head it forms the scores
// Q·Kᵀ/√d with one kernels.Sgemm, applies a per-row stable softmax, and multiplies by V into the
// context [tokens, hidden]. Nothing is masked: a sequence only ever sees its own keys.
type attentionOp struct {
	opBase
	tokens, heads, headDim int
}

func (o *attentionOp) Arity() int       { return 2 }
func (o *attentionOp) Type() hm.Type    { return matrixType(2) }
func (o *attentionOp) Hashcode() uint32 { return o.hashcode(o) }

func (o *attentionOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(ds)
	if err != nil {
		return nil, err
	}
	h := o.heads * o.headDim
	if s[0][0] != o.tokens || s[0][1] != 3*h || s[1][0] != 1 || s[1][1] != o.tokens {
		return nil, fmt.Errorf("%s: qkv %v, lens %v do not fit %d tokens", o.name, s[0], s[1], o.tokens)
	}
	return tensor.Shape{o.tokens, h}, nil
}

func (o *attentionOp) Do(vs ...G.Value) (G.Value, error) {
	T, d := o.tokens, o.headDim
	H := o.heads * d
	qkv, err := float32s(vs[0], o.name+" qkv", T, 3*H)
	if err != nil {
		return nil, err
	}
	lens, err := float32s(vs[1], o.name+" lens", 1, T)
	if err != nil {
		return nil, err
	}
	y, ctx := o.output(T, H)
	nh := o.heads
	scale := float32(1 / math.Sqrt(float64(d)))
	for start := 0; start < T; {
		L := int(lens[start])
		if L < 1 || start+L > T {
			return nil, fmt.Errorf("%s: token %d: sequence length %v does not fit %d tokens", o.name, start, lens[start], T)
		}
		rows := qkv[start*3*H:]
		scores := o.sc.get(slotScores, nh*L*L) // [heads][L queries][L keys]
		zeros := o.sc.get(slotNoMask, L)
		// Heads are independent and their products small (L×L×d): one goroutine per core
		// takes a share of the heads, each product on its own thread, rather than every
		// product forking an OpenMP team.
		perChunk := 1
		if !kernels.SmallGEMMConcurrent {
			perChunk = nh
		}
		kernels.ParallelFor(nh, perChunk, func(lo, hi int) {
			for h := lo; h < hi; h++ {
				s := scores[h*L*L : (h+1)*L*L]
				kernels.SgemmSmall(false, true, L, L, d, scale, rows[h*d:], 3*H, rows[H+h*d:], 3*H, 0, s, L)
				kernels.SoftmaxRows(s, zeros, L)
				kernels.SgemmSmall(false, false, L, d, L, 1, s, L, rows[2*H+h*d:], 3*H, 0, ctx[start*H+h*d:], H)
			}
		})
		start += L
	}
	return y, nil
}

// addNormOp computes LayerNorm(X + R)·γ + β row by row (HF's BertSelfOutput/BertOutput
// residual), with the current layer's γ and β that pick chooses. Inputs: X, R [n, hidden].
type addNormOp struct {
	opBase
	layer *layerRef
	pick  func(*layerWeights) *norm
	eps   float64
}

func (o *addNormOp) Arity() int       { return 2 }
func (o *addNormOp) Type() hm.Type    { return matrixType(2) }
func (o *addNormOp) Hashcode() uint32 { return o.hashcode(o) }

func (o *addNormOp) InferShape(ds ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapesOf(ds)
	if err != nil {
		return nil, err
	}
	if !s[0].Eq(s[1]) {
		return nil, fmt.Errorf("%s: shapes %v do not fit", o.name, s)
	}
	return s[0].Clone(), nil
}

func (o *addNormOp) Do(vs ...G.Value) (G.Value, error) {
	s := vs[0].Shape()
	if len(s) != 2 {
		return nil, fmt.Errorf("%s: want a matrix, got %v", o.name, s)
	}
	n, h := s[0], s[1]
	x, err := float32s(vs[0], o.name+" x", n, h)
	if err != nil {
		return nil, err
	}
	r, err := float32s(vs[1], o.name+" residual", n, h)
	if err != nil {
		return nil, err
	}
	nm := o.pick(o.layer.cur)
	if len(nm.gamma) != h || len(nm.beta) != h {
		return nil, fmt.Errorf("%s: γ, β of %d and %d values for rows of %d", o.name, len(nm.gamma), len(nm.beta), h)
	}
	y, out := o.output(n, h)
	kernels.ParallelFor(n, 64, func(lo, hi int) {
		kernels.AddLayerNormRows(out[lo*h:hi*h], x[lo*h:hi*h], r[lo*h:hi*h], nm.gamma, nm.beta, h, o.eps)
	})
	return y, nil
}
