package encoder

import (
	"math/rand/v2"

	"github.com/coldserve/coldserve/weights"
)

// SyntheticIDs is a batch×seq batch of pseudo-random ordinary tokens framed by <s> … </s>,
// the same for every call: benchmarks use it so ours and the peers time identical inputs.
func SyntheticIDs(cfg weights.Config, batch, seq int) [][]int32 {
	r := rand.New(rand.NewPCG(1, 2))
	ids := make([][]int32, batch)
	for b := range ids {
		s := make([]int32, seq)
		for i := range s {
			s[i] = int32(4 + r.IntN(cfg.VocabSize-4))
		}
		s[0], s[seq-1] = int32(cfg.BosTokenID), int32(cfg.EosTokenID)
		ids[b] = s
	}
	return ids
}
