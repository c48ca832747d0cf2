//go:build !cgo || noblas

package model

// kernelName says which element-wise kernels this build uses.
const kernelName = "go"

// gelu applies HF's exact-erf GELU to v in place.
func gelu(v []float32) { geluInPlace(v) }

// softmaxRows turns each n-wide row of s into probabilities with the additive key mask.
func softmaxRows(s, mask []float32, n int) {
	for r := 0; r+n <= len(s); r += n {
		softmaxRowMasked(s[r:r+n], mask)
	}
}

// toBF16s rounds src to bfloat16 into dst (len(dst) >= len(src)).
func toBF16s(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = toBF16(v)
	}
}

// addLayerNormRows writes LayerNorm(x + r)·gamma + beta into out for each n-wide row.
func addLayerNormRows(out, x, r, gamma, beta []float32, n int, eps float64) {
	for i := 0; i+n <= len(out); i += n {
		addLayerNormRow(out[i:i+n], x[i:i+n], r[i:i+n], gamma, beta, eps)
	}
}
