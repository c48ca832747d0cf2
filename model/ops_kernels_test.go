package model

import (
	"math"
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
