//go:build cgo && !noblas && dnnl

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestDNNLMatmulProduct checks the oneDNN products that bfloat16 encoders use, built in float32
// so they run on every CPU: weights packed once into oneDNN's layout, one product per row
// count, bias and GELU post-op, against Sgemm and the Go GELU.
func TestDNNLMatmulProduct(t *testing.T) {
	mm, err := float32Matmul()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("float32 matmul: %s", mm.Name())
	r := rand.New(rand.NewPCG(11, 12))
	for _, shape := range [][2]int{{768, 768}, {48, 32}, {5, 3}} {
		n, k := shape[0], shape[1]
		wf := uniformFloats(r, n*k)
		w, err := mm.Weights(k, wf)
		if err != nil {
			t.Fatal(err)
		}
		bias := uniformFloats(r, n)
		for _, m := range []int{1, 7, 64, 130} {
			for _, gelu := range []bool{false, true} {
				t.Run(fmt.Sprintf("m=%d,n=%d,k=%d,gelu=%v", m, n, k, gelu), func(t *testing.T) {
					a, c := uniformFloats(r, m*k), uniformFloats(r, m*n)
					want := make([]float32, m*n)
					BroadcastRows(want, bias, m, n)
					Sgemm(false, true, m, n, k, 1, a, k, wf, k, 1, want, n)
					if gelu {
						geluInPlace(want)
					}
					p, err := mm.product(m, n, k, gelu)
					if err != nil {
						t.Fatal(err)
					}
					defer p.Close()
					if err := p.run(c, unsafe.Pointer(&a[0]), w, bias); err != nil {
						t.Fatal(err)
					}
					for i := range c {
						if d := math.Abs(float64(c[i] - want[i])); d > 1e-4 {
							t.Fatalf("c[%d] = %g, want %g", i, c[i], want[i])
						}
					}
				})
			}
		}
	}
}
