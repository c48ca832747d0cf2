package encoder

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// baseBenchEncoder is the roberta-base geometry (weightgen seed 0), built once per test
// binary: generating ~125M parameters takes a few seconds.
var baseBenchEncoder = sync.OnceValues(func() (*Encoder, error) {
	return NewEncoder(baseCheckpointOnce(), EncoderOptions{})
})

// BenchmarkEncoderBase times Forward on the roberta-base geometry at the shapes the
// PyTorch peer uses and reports tokens/s (batch·seq per forward). BLAS threads come from
// OMP_NUM_THREADS (the OpenMP OpenBLAS) in the cgo build.
func BenchmarkEncoderBase(b *testing.B) {
	e, err := baseBenchEncoder()
	if err != nil {
		b.Fatal(err)
	}
	for _, shape := range [][2]int{{1, 16}, {1, 128}, {8, 128}, {32, 128}, {4, 512}} {
		b.Run(fmt.Sprintf("%dx%d", shape[0], shape[1]), func(b *testing.B) {
			ids := SyntheticIDs(e.Config(), shape[0], shape[1])
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
