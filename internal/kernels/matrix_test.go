package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestMatrixLinear checks Matrix.Linear for every kernel this build and CPU can run, the
// AVX2 one included on AVX-512 CPUs, against a float64 reference: row counts around the
// micro-kernels' tiles (6 and 12 rows), widths that leave a partial last panel, stacked parts
// that do not start on a panel boundary, a k longer than one K chunk (1024), row counts on both
// sides of sharedARows, with and without a bias.
func TestMatrixLinear(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	kernels := append([]gemmKernel{gemmBLAS}, packedKernels()...)
	for _, want := range []gemmKernel{gemmAVX2, gemmAVX512} {
		if !containsKernel(kernels, want) {
			t.Logf("%s: not run here (this build or CPU lacks it)", want)
		}
	}
	for _, kern := range kernels {
		for _, tc := range []struct {
			m, k  int
			parts []int // rows of each stacked part
			bias  bool
		}{
			{1, 1, []int{1}, false},
			{5, 37, []int{40}, true},
			{12, 64, []int{32}, true},
			{13, 33, []int{7, 9, 20}, true},
			{16, 768, []int{48, 48, 48}, true},
			{7, 1030, []int{33}, false},
			{sharedARows, 200, []int{300}, true},   // x packed once, panels in chunks
			{sharedARows + 1, 64, []int{70}, true}, // x packed per thread
			{130, 96, []int{17, 64}, true},
		} {
			t.Run(fmt.Sprintf("%s/m=%d,k=%d,parts=%v,bias=%v", kern, tc.m, tc.k, tc.parts, tc.bias), func(t *testing.T) {
				parts := make([][]float32, len(tc.parts))
				var stacked []float32
				for i, rows := range tc.parts {
					parts[i] = uniformFloats(r, rows*tc.k)
					stacked = append(stacked, parts[i]...)
				}
				n := len(stacked) / tc.k
				x := uniformFloats(r, tc.m*tc.k)
				var bias []float32
				if tc.bias {
					bias = uniformFloats(r, n)
				}
				w, err := newMatrix(kern, tc.k, parts...)
				if err != nil {
					t.Fatal(err)
				}
				if w.Rows() != n || w.Cols() != tc.k {
					t.Fatalf("matrix is %d×%d, want %d×%d", w.Rows(), w.Cols(), n, tc.k)
				}
				out := uniformFloats(r, tc.m*n) // garbage: Linear must overwrite it
				w.Linear(out, x, tc.m, bias)
				for i := 0; i < tc.m; i++ {
					for j := 0; j < n; j++ {
						want, scale := 0.0, 0.0
						if bias != nil {
							want = float64(bias[j])
						}
						for p := 0; p < tc.k; p++ {
							v := float64(x[i*tc.k+p]) * float64(stacked[j*tc.k+p])
							want += v
							scale += math.Abs(v)
						}
						if d := math.Abs(float64(out[i*n+j]) - want); d > 1e-6*(1+scale) {
							t.Fatalf("out[%d,%d] = %g, want %g", i, j, out[i*n+j], want)
						}
					}
				}
			})
		}
	}
}

func containsKernel(ks []gemmKernel, k gemmKernel) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// TestNewMatrixRefusesRaggedParts checks that a part whose length is not a multiple of k is
// refused, with its index.
func TestNewMatrixRefusesRaggedParts(t *testing.T) {
	if _, err := NewMatrix(4, make([]float32, 8), make([]float32, 6)); err == nil {
		t.Fatal("a 6-value part of a 4-column matrix was accepted")
	}
	if _, err := NewMatrix(0); err == nil {
		t.Fatal("a 0-column matrix was accepted")
	}
}

// BenchmarkMatrixLinear reports GFLOP/s of Matrix.Linear with each kernel this CPU runs, for
// roberta-base's four weight shapes at 16, 128 and 1024 rows (1×16, 1×128 and 8×128 tokens).
// Twelve distinct matrices rotate, as the encoder's layers do, so weights come from memory.
func BenchmarkMatrixLinear(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, kern := range append(packedKernels(), gemmBLAS) {
		for _, s := range [][2]int{{2304, 768}, {768, 768}, {3072, 768}, {768, 3072}} {
			n, k := s[0], s[1]
			ws := make([]*Matrix, 12)
			for i := range ws {
				var err error
				if ws[i], err = newMatrix(kern, k, uniformFloats(r, n*k)); err != nil {
					b.Fatal(err)
				}
			}
			bias := uniformFloats(r, n)
			for _, m := range []int{16, 128, 1024} {
				x, out := uniformFloats(r, m*k), make([]float32, m*n)
				b.Run(fmt.Sprintf("%s/m=%d,n=%d,k=%d", kern, m, n, k), func(b *testing.B) {
					for i := range b.N {
						ws[i%len(ws)].Linear(out, x, m, bias)
					}
					b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()*1e-9, "GFLOP/s")
				})
			}
		}
	}
}
