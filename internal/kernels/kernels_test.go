package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestErf32Accuracy bounds the rational erf approximation against math.Erf over the
// range GELU sees; a wrong coefficient shows up as an error far above 1e-6.
func TestErf32Accuracy(t *testing.T) {
	var worst float64
	for x := -6.0; x <= 6.0; x += 1e-3 {
		d := math.Abs(float64(erf32(float32(x))) - math.Erf(float64(float32(x))))
		worst = math.Max(worst, d)
	}
	if worst > 1e-6 {
		t.Fatalf("erf32 max abs error %.3g, want <= 1e-6", worst)
	}
}

// TestExp32Accuracy bounds the float32 exp's relative error and checks its edges.
func TestExp32Accuracy(t *testing.T) {
	var worst float64
	for x := -87.0; x <= 88.0; x += 1e-3 {
		x32 := float32(x)
		want := math.Exp(float64(x32))
		d := math.Abs(float64(exp32(x32))-want) / want
		worst = math.Max(worst, d)
	}
	if worst > 3e-7 {
		t.Fatalf("exp32 max relative error %.3g, want <= 3e-7", worst)
	}
	cases := []struct {
		x    float32
		want float32
	}{
		{0, 1},
		{-math.MaxFloat32, 0},
		{-100, 0},
	}
	for _, c := range cases {
		if got := exp32(c.x); got != c.want {
			t.Errorf("exp32(%g) = %g, want %g", c.x, got, c.want)
		}
	}
	if !math.IsInf(float64(exp32(100)), 1) {
		t.Errorf("exp32(100) = %g, want +Inf", exp32(100))
	}
}

// TestSoftmaxRowMasked checks the row maximum is taken per row (Gorgonia's SoftMax bug
// took it from the first element of the whole tensor) and that masked keys get zero.
func TestSoftmaxRowMasked(t *testing.T) {
	neg := float32(-math.MaxFloat32)
	cases := []struct {
		name string
		s    []float32
		mask []float32
		want []float64
	}{
		{"uniform", []float32{0, 0, 0}, []float32{0, 0, 0}, []float64{1.0 / 3, 1.0 / 3, 1.0 / 3}},
		{"large values", []float32{100, 0, 0}, []float32{0, 0, 0}, []float64{1 / (1 + 2*math.Exp(-100)), math.Exp(-100), math.Exp(-100)}},
		{"masked tail", []float32{1, 2, 50}, []float32{0, 0, neg}, []float64{1 / (1 + math.E), math.E / (1 + math.E), 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := append([]float32(nil), c.s...)
			softmaxRowMasked(s, c.mask)
			for j := range s {
				if math.Abs(float64(s[j])-c.want[j]) > 1e-7 {
					t.Fatalf("p[%d] = %g, want %g", j, s[j], c.want[j])
				}
			}
		})
	}
}

// TestBuildKernelsMatchGo compares the build's gelu and SoftmaxRows (C in the cgo build)
// with the reference Go kernels on random data, including long masked tails.
func TestBuildKernelsMatchGo(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	v := make([]float32, 4099)
	for i := range v {
		v[i] = float32(r.NormFloat64() * 3)
	}
	want := append([]float32(nil), v...)
	geluInPlace(want)
	got := append([]float32(nil), v...)
	GELU(got)
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-6*math.Max(1, math.Abs(float64(want[i]))) {
			t.Fatalf("%s GELU(%g) = %g, Go %g", Elementwise, v[i], got[i], want[i])
		}
	}
	for _, n := range []int{1, 7, 8, 29, 128, 515} {
		rows := 5
		s := make([]float32, rows*n)
		mask := make([]float32, n)
		for i := range s {
			s[i] = float32(r.NormFloat64() * 10)
		}
		for j := n * 3 / 4; j < n; j++ {
			if n > 4 {
				mask[j] = -math.MaxFloat32
			}
		}
		want := append([]float32(nil), s...)
		for k := 0; k < rows; k++ {
			softmaxRowMasked(want[k*n:(k+1)*n], mask)
		}
		SoftmaxRows(s, mask, n)
		for i := range s {
			if d := math.Abs(float64(s[i] - want[i])); d > 1e-6 {
				t.Fatalf("%s softmax n=%d [%d] = %g, Go %g", Elementwise, n, i, s[i], want[i])
			}
		}
	}
}

// TestBuildAddLayerNormMatchesGo compares the build's AddLayerNormRows (AVX2 C in the cgo
// build) with addLayerNormRow, for widths with and without a vector tail and for rows with a
// large mean (where float32 sums would lose digits), including out aliasing x.
func TestBuildAddLayerNormMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, n := range []int{1, 7, 8, 32, 37, 768} {
		const rows = 5
		x, res := make([]float32, rows*n), make([]float32, rows*n)
		gamma, beta := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64()*3 + 1000*float64(i%2))
			res[i] = float32(r.NormFloat64())
		}
		for i := range gamma {
			gamma[i], beta[i] = float32(1+r.NormFloat64()/10), float32(r.NormFloat64()/10)
		}
		want := make([]float32, rows*n)
		for k := 0; k < rows; k++ {
			addLayerNormRow(want[k*n:(k+1)*n], x[k*n:(k+1)*n], res[k*n:(k+1)*n], gamma, beta, 1e-5)
		}
		got := append([]float32(nil), x...)
		AddLayerNormRows(got, got, res, gamma, beta, n, 1e-5)
		for i := range got {
			if d := math.Abs(float64(got[i] - want[i])); d > 2e-6*math.Max(1, math.Abs(float64(want[i]))) {
				t.Fatalf("%s add+LayerNorm n=%d [%d] = %g, Go %g", Elementwise, n, i, got[i], want[i])
			}
		}
	}
}

// BenchmarkKernels times the element-wise kernels on one 8×128 layer's worth of data:
// GELU over the 1024×3072 intermediate, softmax over 12 heads' 128×128 scores per sequence.
func BenchmarkKernels(b *testing.B) {
	v := make([]float32, 1024*3072)
	for i := range v {
		v[i] = float32(i%200)/50 - 2
	}
	s := make([]float32, 12*128*128)
	mask := make([]float32, 128)
	for _, k := range []struct {
		name string
		fn   func()
	}{
		{"gelu/" + Elementwise, func() { GELU(v) }},
		{"gelu/go", func() { geluInPlace(v) }},
		{"softmax/" + Elementwise, func() {
			for i := range s {
				s[i] = float32(i%97) / 10
			}
			SoftmaxRows(s, mask, 128)
		}},
		{"softmax/go", func() {
			for i := range s {
				s[i] = float32(i%97) / 10
			}
			for r := 0; r < 12*128; r++ {
				softmaxRowMasked(s[r*128:(r+1)*128], mask)
			}
		}},
	} {
		b.Run(k.name, func(b *testing.B) {
			for range b.N {
				k.fn()
			}
		})
	}
}
