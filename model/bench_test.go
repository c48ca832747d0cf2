package model

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// baseBenchEncoder is the roberta-base geometry (weightgen seed 0), built once per test
// binary: generating ~125M parameters takes a few seconds.
var baseBenchEncoder = sync.OnceValues(func() (*Encoder, error) {
	return NewEncoder(Weightgen(RobertaBaseConfig(), 0, WeightgenOptions{}), EncoderOptions{})
})

// benchIDs is a batch×seq batch of random ordinary tokens framed by <s> … </s>.
func benchIDs(cfg Config, batch, seq int) [][]int32 {
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

// BenchmarkEncoderBase times Forward on the roberta-base geometry at the shapes the
// PyTorch peer uses and reports tokens/s (batch·seq per forward). BLAS threads come from
// OMP_NUM_THREADS (the OpenMP OpenBLAS) in the cgo build.
func BenchmarkEncoderBase(b *testing.B) {
	e, err := baseBenchEncoder()
	if err != nil {
		b.Fatal(err)
	}
	for _, shape := range [][2]int{{1, 16}, {8, 128}, {32, 128}, {4, 512}} {
		b.Run(fmt.Sprintf("%dx%d", shape[0], shape[1]), func(b *testing.B) {
			ids := benchIDs(e.Config(), shape[0], shape[1])
			ctx := context.Background()
			if _, err := e.Forward(ctx, ids); err != nil { // compile the machine, size scratch
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if _, err := e.Forward(ctx, ids); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(shape[0]*shape[1]*b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}
