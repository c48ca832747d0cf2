package encoder

import (
	"context"
	"slices"
	"testing"
	"unsafe"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/coldserve/coldserve/internal/kernels"
)

// scratchCases are the encoders whose scratch the tests inspect: float32 and BFloat16
// (with the exact emulation, so it runs on every CPU), which adds the bfloat16 input copy.
func scratchCases(t *testing.T) []struct {
	name string
	e    *Encoder
} {
	return []struct {
		name string
		e    *Encoder
	}{
		{"float32", mustEncoder(t, tinyCheckpoint(t), EncoderOptions{})},
		{"bfloat16", mustEncoder(t, tinyCheckpoint(t), EncoderOptions{DType: BFloat16, bf16: kernels.EmulatedBF16})},
	}
}

// forwardOnWorker runs one forward pass on e's only worker and returns the worker and the
// machine it used, for inspection (the test makes no other call on e meanwhile).
func forwardOnWorker(t *testing.T, e *Encoder, ids [][]int32) (*worker, *layerMachine) {
	t.Helper()
	wk := <-e.workers
	defer func() { e.workers <- wk }()
	if _, err := e.forward(context.Background(), wk, ids); err != nil {
		t.Fatal(err)
	}
	tokens := 0
	for _, s := range ids {
		tokens += len(s)
	}
	lm, ok := wk.machines.Peek(tokens)
	if !ok {
		t.Fatalf("no machine for %d tokens", tokens)
	}
	return wk, lm
}

// TestScratchPerTokenBound pins the worker's scratch after a forward pass to the budget in
// ops_scratch.go: max(3H, I) + 4H + 1 floats per token (qkv/intermediate, context/output,
// attention.output/output.norm, hidden1, the input x, the lengths), max(H, I)/2 more for a
// BFloat16 encoder's input copy, plus the longest sequence's heads·L² scores and L mask
// zeros. A new slot, or a value no longer sharing one, makes it fail.
func TestScratchPerTokenBound(t *testing.T) {
	for _, c := range scratchCases(t) {
		t.Run(c.name, func(t *testing.T) {
			ids := mixedIDs(t)
			tokens, longest := 0, 0
			for _, s := range ids {
				tokens += len(s)
				longest = max(longest, len(s))
			}
			cfg := c.e.Config()
			h, inter := cfg.HiddenSize, cfg.IntermediateSize
			perToken := max(3*h, inter) + 4*h + 1
			if c.e.DType() == BFloat16 {
				perToken += max(h, inter) / 2
			}
			bound := tokens*perToken + 1 + cfg.NumAttentionHeads*longest*longest + longest
			if got := ScratchBytes(cfg, c.e.DType(), tokens, longest); got != 4*int64(bound) {
				t.Errorf("ScratchBytes = %d, want the budget %d floats × 4 B", got, bound)
			}

			wk, _ := forwardOnWorker(t, c.e, ids)
			total := 0
			for _, b := range wk.sc.bufs {
				total += cap(b)
			}
			t.Logf("%d tokens: scratch %d floats (%.1f per token, %d B), bound %d", tokens, total,
				float64(total)/float64(tokens), 4*total/tokens, bound)
			if total > bound {
				t.Errorf("scratch holds %d floats for %d tokens (longest %d), over the budget of %d: a new slot, or values that could share one do not",
					total, tokens, longest, bound)
			}
		})
	}
}

// span is the memory of one value of the layer graph and the steps it is alive in.
type span struct {
	name       string
	lo, hi     uintptr // [lo, hi) bytes
	from, upto int     // alive from step from (written) to step upto (last read), inclusive
}

func floatSpan(name string, data []float32, from, upto int) span {
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
	return span{name: name, lo: lo, hi: lo + uintptr(len(data))*4, from: from, upto: upto}
}

// TestScratchNoLiveAliasing checks the slot sharing against the compiled graph itself:
// after forward passes (the second with fewer tokens, so a machine runs over slots another
// machine grew), no two values of the layer graph whose lifetimes overlap share a byte, an
// op's output never overlaps its own inputs, and the temporaries (scores, mask zeros,
// bfloat16 copy) overlap no value. Lifetimes come from the graph's execution order: a value
// lives from the step that writes it to the last step that reads it; the inputs x and lens
// from the start, and the layer's output to the end (runLayer copies it out).
func TestScratchNoLiveAliasing(t *testing.T) {
	for _, c := range scratchCases(t) {
		t.Run(c.name, func(t *testing.T) {
			ids := mixedIDs(t)
			forwardOnWorker(t, c.e, ids)
			wk, lm := forwardOnWorker(t, c.e, ids[:3])

			g := lm.out.Graph()
			sorted, err := G.Sort(g)
			if err != nil {
				t.Fatal(err)
			}
			slices.Reverse(sorted) // Sort puts the root first; the machine runs leaves first
			step := map[int64]int{}
			var ops G.Nodes
			for _, n := range sorted {
				if n.Op() != nil {
					ops = append(ops, n)
					step[n.ID()] = len(ops)
				}
			}
			if len(ops) != 7 {
				t.Fatalf("%d ops in the layer graph, want 7: update this test and ops_scratch.go's table", len(ops))
			}
			end := len(ops) + 1
			lastRead := map[int64]int{}
			for _, n := range ops {
				for it := g.From(n.ID()); it.Next(); {
					child := it.Node().ID()
					lastRead[child] = max(lastRead[child], step[n.ID()])
				}
			}
			lastRead[lm.out.ID()] = end

			var spans []span
			for _, n := range append(G.Nodes{lm.x, lm.lens}, ops...) {
				d, ok := n.Value().(*tensor.Dense)
				if !ok {
					t.Fatalf("%s: value %T", n.Name(), n.Value())
				}
				name := n.Name()
				if n.Op() != nil {
					name = n.Op().String()
				}
				spans = append(spans, floatSpan(name, d.Data().([]float32), step[n.ID()], lastRead[n.ID()]))
			}
			temps := []struct {
				name string
				slot int
			}{{"scores", slotScores}, {"mask zeros", slotNoMask}, {"bfloat16 copy", slotBF16}}
			for _, tmp := range temps {
				if tmp.slot < len(wk.sc.bufs) && cap(wk.sc.bufs[tmp.slot]) > 0 {
					b := wk.sc.bufs[tmp.slot]
					spans = append(spans, floatSpan(tmp.name, b[:cap(b)], 0, end))
				}
			}
			if c.e.DType() == BFloat16 && cap(wk.sc.bufs[slotBF16]) == 0 {
				t.Error("bfloat16 encoder never used its bfloat16 copy slot")
			}

			shared := 0
			for i, a := range spans {
				for _, b := range spans[i+1:] {
					if a.lo >= b.hi || b.lo >= a.hi {
						continue
					}
					shared++
					if a.from <= b.upto && b.from <= a.upto {
						t.Errorf("%s (alive %d..%d) and %s (alive %d..%d) share memory", a.name, a.from, a.upto, b.name, b.from, b.upto)
					}
				}
			}
			// The table in ops_scratch.go shares three slots; if none is shared the test
			// above checked nothing.
			if shared < 3 {
				t.Errorf("%d pairs of values share memory, want at least 3 (ops_scratch.go's table)", shared)
			}
		})
	}
}

// TestGrowthDropsStaleMachines: when a bigger batch grows the scratch, machines compiled for
// earlier batches (whose tensors point at the replaced buffers) leave the cache, so the old
// buffers can be collected; a batch that fits the grown scratch keeps the cache.
func TestGrowthDropsStaleMachines(t *testing.T) {
	e := mustEncoder(t, tinyCheckpoint(t), EncoderOptions{})
	ids := func(n int) [][]int32 { return SyntheticIDs(e.Config(), 1, n) }
	forwardOnWorker(t, e, ids(8))
	wk, _ := forwardOnWorker(t, e, ids(6)) // fits: no growth
	if n := wk.machines.Len(); n != 2 {
		t.Fatalf("%d machines after batches of 8 and 6 tokens, want 2", n)
	}
	grown := wk.sc.grown
	wk, _ = forwardOnWorker(t, e, ids(40)) // grows every slot
	if wk.sc.grown == grown {
		t.Fatal("a 5x bigger batch did not grow the scratch")
	}
	if keys := wk.machines.Keys(); len(keys) != 1 || keys[0] != 40 {
		t.Errorf("machines after growth: %v, want only [40]", keys)
	}
	forwardOnWorker(t, e, ids(8))
	if n := wk.machines.Len(); n != 2 {
		t.Errorf("%d machines after a batch that fits, want 2", n)
	}
}
