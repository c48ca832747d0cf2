package encoder

import "github.com/coldserve/coldserve/weights"

// scratch is the reusable memory of one worker. Every op of every machine the worker owns
// draws its output from a numbered slot; machines of one worker never run at the same time,
// so they can share slots, and memory stays bounded by the worker's largest batch. Within a
// layer, ops whose values are never alive at the same time share a slot (see the table
// below): max(3·hidden, intermediate) + 4·hidden + 1 floats per token of the largest batch,
// about 24 KiB per token for roberta-base (e.g. ~96 MiB at 32×128, 384 MiB at 16384
// tokens), plus max(hidden, intermediate)/2 floats (6 KiB) per token for the bfloat16 copy
// of a BFloat16 encoder, plus heads·seq² floats for attention scores. Callers bound it by
// bounding batch·seq.
type scratch struct {
	bufs [][]float32
	// grown counts the buffers replaced by bigger ones. Compiled machines keep tensors over
	// the buffers of their last run, so a replaced buffer stays reachable from every cached
	// machine that has not run since; the worker drops those machines when grown moves.
	grown int
}

// ScratchBytes bounds the scratch memory one worker of an encoder of cfg and dtype holds after
// a batch of tokens packed tokens whose longest sequence has longest tokens: the layer's
// activations (see scratch) plus one sequence's attention scores. Servers size memory with it.
func ScratchBytes(cfg weights.Config, dtype DType, tokens, longest int) int64 {
	h, inter := int64(cfg.HiddenSize), int64(cfg.IntermediateSize)
	perToken := max(3*h, inter) + 4*h + 1
	if dtype == BFloat16 {
		perToken += max(h, inter) / 2
	}
	l := int64(longest)
	return 4 * (int64(tokens)*perToken + 1 + int64(cfg.NumAttentionHeads)*l*l + l)
}

// get returns slot's buffer resized to n, growing it when needed.
func (s *scratch) get(slot, n int) []float32 {
	for len(s.bufs) <= slot {
		s.bufs = append(s.bufs, nil)
	}
	if cap(s.bufs[slot]) < n {
		if s.bufs[slot] != nil {
			s.grown++
		}
		s.bufs[slot] = make([]float32, n)
	}
	return s.bufs[slot][:n]
}

// Scratch slots. Values alive at the same time need distinct slots, and no op may write
// into the slot of one of its own inputs. The layer's ops run in a fixed order; a slot is
// reused once every reader of its previous value has run:
//
//	step op                 writes                reads           slot free because
//	1    qkv                slotQKVInter  [n,3H]  x               -
//	2    attention          slotCtxFFN    [n,H]   qkv             -
//	3    attention.output   slotAttnOut   [n,H]   ctx             -
//	4    attention.norm     slotHidden1   [n,H]   attn.out, x     -
//	5    intermediate       slotQKVInter  [n,I]   hidden1         qkv's last reader was 2
//	6    output             slotCtxFFN    [n,H]   intermediate    ctx's last reader was 3
//	7    output.norm        slotAttnOut   [n,H]   output, hidden1 attn.out's last reader was 4
//
// hidden1 is alive from 4 to 7 (the second residual) and x (slotInput) from the layer's
// start to 4 (the first residual), and again once runLayer copies the layer's output into
// it; neither is shared. slotScores, slotNoMask and slotBF16 hold temporaries inside one
// op and are never shared either.
const (
	slotQKVInter = iota // qkv, then intermediate: max(3H, I) per token
	slotCtxFFN          // attention context, then the FFN output
	slotAttnOut         // attention.output, then output.norm (the layer's output)
	slotHidden1         // attention.norm: the FFN's input and residual
	slotScores
	slotNoMask // zeros: the softmax mask of a sequence without padding
	slotBF16   // a linear layer's input rounded to bfloat16 (BFloat16 encoders)
)
