package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestSgemmMatchesNaive checks the build's Sgemm (OpenBLAS or gonum) in all transpose
// combinations, with row strides wider than the matrices and a non-zero beta.
func TestSgemmMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	fill := func(n int) []float32 { return uniformFloats(r, n) }
	const m, n, k, pad = 5, 7, 3, 2
	for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
		t.Run(fmt.Sprintf("transA=%v,transB=%v", tr[0], tr[1]), func(t *testing.T) {
			aRows, aCols := m, k
			if tr[0] {
				aRows, aCols = k, m
			}
			bRows, bCols := k, n
			if tr[1] {
				bRows, bCols = n, k
			}
			lda, ldb, ldc := aCols+pad, bCols+pad, n+pad
			a, b, c := fill(aRows*lda), fill(bRows*ldb), fill(m*ldc)
			want := make([]float64, m*n)
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					var s float64
					for p := 0; p < k; p++ {
						var av, bv float32
						if tr[0] {
							av = a[p*lda+i]
						} else {
							av = a[i*lda+p]
						}
						if tr[1] {
							bv = b[j*ldb+p]
						} else {
							bv = b[p*ldb+j]
						}
						s += float64(av) * float64(bv)
					}
					want[i*n+j] = 0.5*s + 2*float64(c[i*ldc+j])
				}
			}
			Sgemm(tr[0], tr[1], m, n, k, 0.5, a, lda, b, ldb, 2, c, ldc)
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					if d := math.Abs(float64(c[i*ldc+j]) - want[i*n+j]); d > 1e-5 {
						t.Fatalf("C[%d,%d] = %g, want %g", i, j, c[i*ldc+j], want[i*n+j])
					}
				}
			}
		})
	}
}

// BenchmarkSgemm reports GFLOP/s of the build's Sgemm for the FFN's product at 16 and
// 1024 rows (1×16 and 8×128 tokens), with the weight as stored ([out, in], transposed in the
// product) and pre-transposed.
func BenchmarkSgemm(b *testing.B) {
	const n, k = 3072, 768
	for _, m := range []int{16, 1024} {
		x, w, y := make([]float32, m*k), make([]float32, n*k), make([]float32, m*n)
		for i := range w {
			w[i] = float32(i%7) * 0.01
		}
		for _, transB := range []bool{true, false} {
			b.Run(fmt.Sprintf("m=%d/transB=%v", m, transB), func(b *testing.B) {
				ldb := k
				if !transB {
					ldb = n
				}
				for range b.N {
					Sgemm(false, transB, m, n, k, 1, x, k, w, ldb, 0, y, n)
				}
				b.ReportMetric(2*float64(m*n*k*b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// uniformFloats returns n values drawn uniformly from [-1, 1).
func uniformFloats(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
	return s
}
