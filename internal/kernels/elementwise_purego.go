//go:build !cgo || noblas || !amd64

package kernels

// Elementwise says which element-wise kernels this build uses.
const Elementwise = "go"

// GELU applies HF's exact-erf GELU to v in place.
func GELU(v []float32) { geluInPlace(v) }

// SoftmaxRows turns each n-wide row of s into probabilities with the additive key mask.
func SoftmaxRows(s, mask []float32, n int) {
	for r := 0; r+n <= len(s); r += n {
		softmaxRowMasked(s[r:r+n], mask)
	}
}

// ToBF16s rounds src to bfloat16 into dst (len(dst) >= len(src)).
func ToBF16s(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = ToBF16(v)
	}
}

// AddLayerNormRows writes LayerNorm(x + r)·gamma + beta into out for each n-wide row.
func AddLayerNormRows(out, x, r, gamma, beta []float32, n int, eps float64) {
	for i := 0; i+n <= len(out); i += n {
		addLayerNormRow(out[i:i+n], x[i:i+n], r[i:i+n], gamma, beta, eps)
	}
}
