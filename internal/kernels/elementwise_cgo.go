//go:build cgo && !noblas && amd64

package kernels

// Vectorised element-wise kernels for the cgo build on amd64 (elementwise_amd64.c): the same maths as kernels.go
// (the XLA/Eigen rational erf, the Cephes exp polynomial) in C, with AVX2+FMA intrinsics
// chosen at run time when the CPU has them and scalar C otherwise. Results agree with the
// Go kernels to float32 rounding (TestBuildKernelsMatchGo); fused multiply-adds make the
// last bit differ.

/*
#cgo CFLAGS: -O3
#cgo LDFLAGS: -lm
#include "elementwise.h"
*/
import "C"

import "unsafe"

// Elementwise says which element-wise kernels this build uses.
const Elementwise = "c"

// GELU applies HF's exact-erf GELU to v in place.
func GELU(v []float32) {
	if len(v) > 0 {
		C.cs_gelu((*C.float)(unsafe.Pointer(&v[0])), C.long(len(v)))
	}
}

// SoftmaxRows turns each n-wide row of s into probabilities with the additive key mask.
func SoftmaxRows(s, mask []float32, n int) {
	if len(s) == 0 || n == 0 {
		return
	}
	mask = mask[:n]
	C.cs_softmax_rows((*C.float)(unsafe.Pointer(&s[0])), (*C.float)(unsafe.Pointer(&mask[0])),
		C.long(len(s)/n), C.long(n))
}

// ToBF16s rounds src to bfloat16 into dst (len(dst) >= len(src)), as ToBF16 does one value.
func ToBF16s(dst []uint16, src []float32) {
	if len(src) > 0 {
		C.cs_to_bf16((*C.float)(unsafe.Pointer(&src[0])), (*C.uint16_t)(unsafe.Pointer(&dst[0])), C.long(len(src)))
	}
}

// AddLayerNormRows writes LayerNorm(x + r)·gamma + beta into out for each n-wide row (see
// addLayerNormRow); out may alias x or r.
func AddLayerNormRows(out, x, r, gamma, beta []float32, n int, eps float64) {
	rows := len(out) / n
	if rows == 0 {
		return
	}
	x, r, gamma, beta = x[:rows*n], r[:rows*n], gamma[:n], beta[:n]
	C.cs_add_layernorm_rows((*C.float)(unsafe.Pointer(&out[0])), (*C.float)(unsafe.Pointer(&x[0])),
		(*C.float)(unsafe.Pointer(&r[0])), (*C.float)(unsafe.Pointer(&gamma[0])), (*C.float)(unsafe.Pointer(&beta[0])),
		C.long(rows), C.long(n), C.double(eps))
}
