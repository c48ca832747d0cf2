package model

// scratch is the reusable memory of one worker. Every op of every machine the worker owns
// draws its output from a numbered slot; machines of one worker never run at the same time,
// so they can share slots, and memory stays bounded by the worker's largest batch: about
// 40 KiB per token of the largest batch for roberta-base (e.g. ~165 MiB at 32×128), plus
// heads·seq² floats for attention scores. Callers bound it by bounding batch·seq.
type scratch struct {
	bufs [][]float32
}

// get returns slot's buffer resized to n, growing it when needed.
func (s *scratch) get(slot, n int) []float32 {
	for len(s.bufs) <= slot {
		s.bufs = append(s.bufs, nil)
	}
	if cap(s.bufs[slot]) < n {
		s.bufs[slot] = make([]float32, n)
	}
	return s.bufs[slot][:n]
}

// Scratch slots. Ops whose outputs are alive at the same time need distinct slots.
const (
	slotQKV = iota
	slotContext
	slotAttnOut
	slotHidden1
	slotInter
	slotFFNOut
	slotHidden2
	slotScores
	slotNoMask // zeros: the softmax mask of a sequence without padding
	slotBF16   // a linear layer's input rounded to bfloat16 (BFloat16 encoders)
)
