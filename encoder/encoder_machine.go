package encoder

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/coldserve/coldserve/internal/kernels"
	"github.com/coldserve/coldserve/weights"
)

// layerMachine is one compiled single-layer encoder graph for a packed batch of n tokens
// (any number of sequences whose lengths add up to n).
// All layers run through the same machine: before each run, runLayer points the ops at the
// layer's weights (no recompilation), and the layer's output is copied back into the input
// buffer for the next layer.
//
// A machine belongs to exactly one worker and is never used by two goroutines at once:
// Gorgonia's TapeMachine keeps run state in itself and crashes or returns wrong results
// when shared.
type layerMachine struct {
	tokens, hidden    int
	sc                *scratch
	vm                G.VM
	x, lens, out      *G.Node
	layer             *layerRef
	linears           []*linearOp // to close their bfloat16 products
	xDense, lensDense *tensor.Dense
}

// Scratch slots used for the machine inputs (after the op slots).
const (
	slotInput = slotBF16 + 1 + iota
	slotLens
)

// newLayerMachine builds and compiles the layer graph for n packed tokens:
//
//	qkv   = x·W_qkvᵀ + b_qkv                      (linear)
//	ctx   = MultiHeadAttention(qkv, lens)         (fused attention within each sequence)
//	h1    = LayerNorm(ctx·W_oᵀ + b_o + x)         (linear, add+LayerNorm)
//	h2    = LayerNorm(GELU(h1·W_iᵀ + b_i)·W_o2ᵀ + b_o2 + h1)
//
// bf16 is the bfloat16 multiply of a BFloat16 encoder, nil for float32.
func newLayerMachine(cfg weights.Config, sc *scratch, n int, bf16 kernels.BF16) (lm *layerMachine, err error) {
	defer func() {
		// NewTapeMachine panics when compilation fails; turn that into an error.
		if r := recover(); r != nil {
			lm, err = nil, fmt.Errorf("compile layer graph for %d tokens: %v", n, r)
		}
	}()
	h, f := cfg.HiddenSize, cfg.IntermediateSize
	g := G.NewGraph()
	lm = &layerMachine{tokens: n, hidden: h, sc: sc, layer: &layerRef{}}
	lm.x = G.NewMatrix(g, G.Float32, G.WithShape(n, h), G.WithName("x"))
	lm.lens = G.NewMatrix(g, G.Float32, G.WithShape(1, n), G.WithName("lens"))
	apply := func(op G.Op, children ...*G.Node) *G.Node {
		if err != nil {
			return nil
		}
		var node *G.Node
		node, err = G.ApplyOp(op, children...)
		return node
	}
	lin := func(name string, slot, width int, gelu bool, pick func(*layerWeights) *linear) *linearOp {
		op := &linearOp{opBase: opBase{name: name, sc: sc, slot: slot}, layer: lm.layer, pick: pick,
			width: width, gelu: gelu, bf16: bf16}
		lm.linears = append(lm.linears, op)
		return op
	}
	addNorm := func(name string, slot int, pick func(*layerWeights) *norm) *addNormOp {
		return &addNormOp{opBase: opBase{name: name, sc: sc, slot: slot}, layer: lm.layer, pick: pick, eps: cfg.LayerNormEps}
	}
	// Output slots follow the table in ops_scratch.go: values never alive together share one.
	qkv := apply(lin("qkv", slotQKVInter, 3*h, false, func(l *layerWeights) *linear { return &l.qkv }), lm.x)
	attn := &attentionOp{opBase: opBase{name: "attention", sc: sc, slot: slotCtxFFN},
		tokens: n, heads: cfg.NumAttentionHeads, headDim: cfg.HeadDim()}
	ctx := apply(attn, qkv, lm.lens)
	ao := apply(lin("attention.output", slotAttnOut, h, false, func(l *layerWeights) *linear { return &l.attnOut }), ctx)
	h1 := apply(addNorm("attention.norm", slotHidden1, func(l *layerWeights) *norm { return &l.attnNorm }), ao, lm.x)
	inter := apply(lin("intermediate", slotQKVInter, f, true, func(l *layerWeights) *linear { return &l.inter }), h1)
	fo := apply(lin("output", slotCtxFFN, h, false, func(l *layerWeights) *linear { return &l.out }), inter)
	lm.out = apply(addNorm("output.norm", slotAttnOut, func(l *layerWeights) *norm { return &l.outNorm }), fo, h1)
	if err != nil {
		return nil, fmt.Errorf("build layer graph for %d tokens: %w", n, err)
	}
	// Size the shared slot for its larger value now, so the first run does not allocate
	// qkv's buffer only to replace it with the intermediate's.
	sc.get(slotQKVInter, n*max(3*h, cfg.IntermediateSize))
	lm.bindInputs()
	if err := G.Let(lm.x, lm.xDense); err != nil {
		return nil, err
	}
	if err := G.Let(lm.lens, lm.lensDense); err != nil {
		return nil, err
	}
	lm.vm = G.NewTapeMachine(g, G.EvalMode())
	return lm, nil
}

// bindInputs (re)creates the input headers over the worker's scratch, which another
// machine of the same worker may have grown since this one last ran.
func (lm *layerMachine) bindInputs() (x, lens []float32) {
	n := lm.tokens
	x = lm.sc.get(slotInput, n*lm.hidden)
	lens = lm.sc.get(slotLens, n)
	if lm.xDense == nil || &lm.xDense.Data().([]float32)[0] != &x[0] {
		lm.xDense = tensor.New(tensor.WithShape(n, lm.hidden), tensor.WithBacking(x))
	}
	if lm.lensDense == nil || &lm.lensDense.Data().([]float32)[0] != &lens[0] {
		lm.lensDense = tensor.New(tensor.WithShape(1, n), tensor.WithBacking(lens))
	}
	return x, lens
}

// runLayer runs the graph with one layer's weights; the result is written back into x (the
// input buffer), ready for the next layer.
func (lm *layerMachine) runLayer(lw *layerWeights, x []float32) error {
	if err := G.Let(lm.x, lm.xDense); err != nil {
		return fmt.Errorf("bind input: %w", err)
	}
	if err := G.Let(lm.lens, lm.lensDense); err != nil {
		return fmt.Errorf("bind lengths: %w", err)
	}
	lm.layer.cur = lw
	lm.vm.Reset()
	if err := lm.vm.RunAll(); err != nil {
		return fmt.Errorf("run layer graph: %w", err)
	}
	out, ok := lm.out.Value().(*tensor.Dense)
	if !ok {
		return fmt.Errorf("layer output is %T", lm.out.Value())
	}
	copy(x, out.Data().([]float32))
	return nil
}

// close releases the compiled program and the linear ops' bfloat16 products.
func (lm *layerMachine) close() {
	for _, op := range lm.linears {
		op.close()
	}
	if c, ok := lm.vm.(interface{ Close() error }); ok {
		_ = c.Close()
	}
}
