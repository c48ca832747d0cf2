package kernels

import (
	"errors"
	"math"
	"unsafe"
)

// BF16 is a bfloat16 backend for the linear layers: oneDNN's matmul on CPUs with AVX512-BF16
// or AMX (HardwareBF16, in the dnnl build), or the exact float32 emulation (EmulatedBF16),
// which tests use as the reference and to run the bfloat16 numerics on any CPU. Products
// accumulate in float32, as AMX and AVX512-BF16 do.
type BF16 interface {
	// Weights rounds W [n, k], the float32 parts stacked by rows, to bfloat16 and stores it
	// the way the backend multiplies fastest (oneDNN's blocked layout, reordered once).
	Weights(k int, parts ...[]float32) (BF16Weights, error)
	// Product prepares out[m×n] = x[m×k]·Wᵀ + bias, followed by the exact GELU when gelu,
	// for n×k weights and one row count m: oneDNN picks its fast kernels only for a row count
	// known in advance. The caller closes it.
	Product(m, n, k int, gelu bool) (BF16Product, error)
	// Name says which implementation multiplies.
	Name() string
}

// BF16Weights is a weight matrix made by BF16.Weights.
type BF16Weights interface {
	Rows() int
	Cols() int
}

// BF16Product is one prepared product (BF16.Product); it may be used by one goroutine at a
// time.
type BF16Product interface {
	// Run computes out[m×n] from xb (x rounded to bfloat16, m×k), w (from the same backend)
	// and bias (n values).
	Run(out []float32, xb []uint16, w BF16Weights, bias []float32) error
	Close()
}

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

// BF16View views a float32 scratch buffer as bfloat16 storage of twice its length.
func BF16View(f []float32) []uint16 {
	if len(f) == 0 {
		return nil
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(&f[0])), 2*len(f))
}
