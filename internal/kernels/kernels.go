package kernels

import (
	"math"
)

// Element-wise kernels used by the custom Gorgonia ops. They are plain Go loops over
// float32 so the pure-Go and the OpenBLAS builds compute identical element-wise maths;
// only matrix products differ between the builds.

// erf32 is the float32 rational approximation of erf used by XLA and Eigen
// (max abs error about 4.5e-7 against the exact function). Inputs are clamped to
// [-4, 4], outside which erf rounds to ±1 in float32.
func erf32(x float32) float32 {
	if x > 4 {
		x = 4
	} else if x < -4 {
		x = -4
	}
	x2 := x * x
	p := x2*-2.72614225801306e-10 + 2.77068142495902e-08
	p = x2*p + -2.10102402082508e-06
	p = x2*p + -5.69250639462346e-05
	p = x2*p + -7.34990630326855e-04
	p = x2*p + -2.95459980854025e-03
	p = x2*p + -1.60960333262415e-02
	p *= x
	q := x2*-1.45660718464996e-05 + -2.13374055278905e-04
	q = x2*q + -1.68282697438203e-03
	q = x2*q + -7.37332916720468e-03
	q = x2*q + -1.42647390514189e-02
	return p / q
}

// geluInPlace applies HF's "gelu" (the exact erf form, x·½·(1+erf(x/√2))) to v.
func geluInPlace(v []float32) {
	const invSqrt2 = 0.70710678118654752440
	for i, x := range v {
		v[i] = 0.5 * x * (1 + erf32(x*invSqrt2))
	}
}

// exp32 is a float32 exp with about 1 ulp relative error (Cephes expf): range reduction
// x = n·ln2 + r with |r| <= ln2/2, a degree-6 polynomial for e^r, and 2^n by exponent bits.
// It returns 0 below -87.3 (where float32 e^x is subnormal), which softmax relies on to
// give masked keys exactly zero weight.
func exp32(x float32) float32 {
	const (
		hi    = 88.3762626647949
		lo    = -87.3365447504
		log2e = 1.44269504088896341
		c1    = 0.693359375
		c2    = -2.12194440e-4
	)
	if x > hi {
		return float32(math.Inf(1))
	}
	if x < lo {
		return 0
	}
	fx := x*log2e + 0.5
	n := float32(math.Floor(float64(fx)))
	r := x - n*c1
	r -= n * c2
	y := float32(1.9875691500e-4)
	y = y*r + 1.3981999507e-3
	y = y*r + 8.3334519073e-3
	y = y*r + 4.1665795894e-2
	y = y*r + 1.6666665459e-1
	y = y*r + 5.0000001201e-1
	y = y*r*r + r + 1
	ni := int32(n)
	if ni > 127 { // x near hi: split the scaling in two so 2^n stays representable
		return y * 2 * math.Float32frombits(uint32(ni-1+127)<<23)
	}
	if ni < -126 {
		return y * math.Float32frombits(uint32(ni+126+127)<<23) * math.Float32frombits(1<<23) // 2^-126
	}
	return y * math.Float32frombits(uint32(ni+127)<<23)
}

// softmaxRowMasked turns one row of attention scores into probabilities in place:
// p_j = exp(s_j + m_j − max) / Σ exp(...), with the additive key mask m (0 for real keys,
// a large negative for padding). Subtracting the row maximum keeps exp in range, so
// padded keys get exactly zero weight and a row of real keys is unaffected by the mask.
func softmaxRowMasked(s, mask []float32) {
	mask = mask[:len(s)]
	maxv := float32(math.Inf(-1))
	for j := range s {
		s[j] += mask[j]
		if s[j] > maxv {
			maxv = s[j]
		}
	}
	var sum float32
	for j, x := range s {
		e := exp32(x - maxv)
		s[j] = e
		sum += e
	}
	inv := 1 / sum
	for j := range s {
		s[j] *= inv
	}
}

// addLayerNormRow writes LayerNorm(x + r)·gamma + beta into out, HF style: biased variance,
// eps inside the square root. Statistics accumulate in float64 so wide rows keep float32
// accuracy. out may alias x or r.
func addLayerNormRow(out, x, r, gamma, beta []float32, eps float64) {
	n := len(out)
	x, r = x[:n], r[:n]
	for i := range out {
		out[i] = x[i] + r[i]
	}
	LayerNormRow(out, out, gamma, beta, eps)
}

// LayerNormRow writes LayerNorm(x)·gamma + beta into out; out may be x itself (each element
// is read before it is written).
func LayerNormRow(out, x, gamma, beta []float32, eps float64) {
	n := len(out)
	x, gamma, beta = x[:n], gamma[:n], beta[:n]
	var sum float64
	for _, v := range x {
		sum += float64(v)
	}
	mean := sum / float64(n)
	var sq float64
	for _, v := range x {
		d := float64(v) - mean
		sq += d * d
	}
	inv := 1 / math.Sqrt(sq/float64(n)+eps)
	m32, inv32 := float32(mean), float32(inv)
	for i, v := range x {
		out[i] = (v-m32)*inv32*gamma[i] + beta[i]
	}
}

// BroadcastRows copies the n-wide row into each of out's first m rows.
func BroadcastRows(out, row []float32, m, n int) {
	for i := 0; i < m; i++ {
		copy(out[i*n:(i+1)*n], row)
	}
}
