//go:build cgo && !noblas && dnnl

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestDNNLMatmulPrimitive checks the oneDNN matmul wrapper that bfloat16 encoders use, built
// in float32 so it runs on every CPU: c += a·wᵀ against Sgemm, with one cached primitive per
// weight shape serving every row count m (oneDNN's run-time dimension).
func TestDNNLMatmulPrimitive(t *testing.T) {
	mm, err := float32Matmul()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(11, 12))
	fill := func(n int) []float32 { return uniformFloats(r, n) }
	for _, shape := range [][2]int{{768, 768}, {48, 32}, {5, 3}} {
		n, k := shape[0], shape[1]
		w := fill(n * k)
		for _, m := range []int{1, 7, 64, 130} {
			t.Run(fmt.Sprintf("m=%d,n=%d,k=%d", m, n, k), func(t *testing.T) {
				a, c := fill(m*k), fill(m*n)
				want := append([]float32(nil), c...)
				Sgemm(false, true, m, n, k, 1, a, k, w, k, 1, want, n)
				if err := mm.mul(m, n, k, unsafe.Pointer(&a[0]), unsafe.Pointer(&w[0]), c); err != nil {
					t.Fatal(err)
				}
				for i := range c {
					if d := math.Abs(float64(c[i] - want[i])); d > 1e-4 {
						t.Fatalf("c[%d] = %g, Sgemm %g", i, c[i], want[i])
					}
				}
			})
		}
	}
	if got := len(mm.prims); got != 3 {
		t.Errorf("%d cached primitives for 3 weight shapes", got)
	}
}
