package kernels

import (
	"errors"
	"math"
	"unsafe"
)

// GemmBF16 computes c[m×n] += a[m×k]·wᵀ, where a and w ([n, k], the checkpoint's
// [out, in] layout) hold bfloat16 bit patterns and c is float32.
type GemmBF16 func(m, n, k int, a, w []uint16, c []float32) error

// ErrNoBF16Build is BFloat16Support's answer in builds without oneDNN.
var ErrNoBF16Build = errors.New("bfloat16 needs the oneDNN build of coldserve (go build -tags dnnl; make builds it)")

// ToBF16 rounds f to the nearest bfloat16, ties to even (PyTorch's and oneDNN's
// rounding); NaNs stay quiet NaNs.
func ToBF16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 {
		return uint16(u>>16) | 0x40
	}
	u += 0x7fff + (u>>16)&1
	return uint16(u >> 16)
}

// FromBF16 widens a bfloat16 to float32, exactly.
func FromBF16(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// LinearBF16 is Linear with bfloat16 weights: x is rounded to bfloat16 into xb
// (len ≥ m·k), the bias broadcast into out, and gemm adds x·wᵀ.
func LinearBF16(gemm GemmBF16, out, x []float32, xb, w []uint16, bias []float32, m, n, k int) error {
	ParallelFor(m, 16, func(lo, hi int) { ToBF16s(xb[lo*k:hi*k], x[lo*k:hi*k]) })
	BroadcastRows(out, bias, m, n)
	return gemm(m, n, k, xb[:m*k], w, out)
}

// BF16View views a float32 scratch buffer as bfloat16 storage of twice its length.
func BF16View(f []float32) []uint16 {
	if len(f) == 0 {
		return nil
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(&f[0])), 2*len(f))
}

// EmulatedBF16 is the bfloat16 multiply computed exactly in float32: each product of two
// bfloat16 values fits a float32 exactly, so widening both operands and running Sgemm gives
// what AMX and AVX512-BF16 compute, up to the order of the float32 sums. Tests use it as the
// reference, and to run bfloat16 numerics on CPUs without the instructions.
func EmulatedBF16(m, n, k int, a, w []uint16, c []float32) error {
	widen := func(b []uint16) []float32 {
		f := make([]float32, len(b))
		for i, v := range b {
			f[i] = FromBF16(v)
		}
		return f
	}
	Sgemm(false, true, m, n, k, 1, widen(a[:m*k]), k, widen(w[:n*k]), k, 1, c, n)
	return nil
}
