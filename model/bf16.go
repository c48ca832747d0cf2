package model

import (
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// DType is the precision an Encoder computes its linear layers in.
type DType string

const (
	// Float32 runs everything in float32: HF transformers' numbers (the goldens).
	Float32 DType = "float32"
	// BFloat16 stores the weights of the encoder layers' four linear layers (query/key/value,
	// attention output, intermediate, output: 85 M of roberta-base's 125 M parameters) in
	// bfloat16 and rounds their inputs to bfloat16; the products accumulate in float32, as
	// AMX and AVX512-BF16 compute them. Embeddings, attention scores, softmax, GELU,
	// LayerNorm and the pooler stay float32. It needs a CPU with bfloat16 matrix
	// instructions and the oneDNN build (-tags dnnl); see BFloat16Support.
	BFloat16 DType = "bf16"
)

// ParseDType accepts "float32" (or "fp32", "f32") and "bf16" (or "bfloat16").
func ParseDType(s string) (DType, error) {
	switch s {
	case "float32", "fp32", "f32":
		return Float32, nil
	case "bf16", "bfloat16":
		return BFloat16, nil
	}
	return "", fmt.Errorf("dtype %q: want float32 or bf16", s)
}

// gemmBF16 computes c[m×n] += a[m×k]·wᵀ, where a and w ([n, k], the checkpoint's
// [out, in] layout) hold bfloat16 bit patterns and c is float32.
type gemmBF16 func(m, n, k int, a, w []uint16, c []float32) error

// errNoBF16Build is BFloat16Support's answer in builds without oneDNN.
var errNoBF16Build = errors.New("bfloat16 needs the oneDNN build of coldserve (go build -tags dnnl; make builds it)")

// BFloat16Support reports whether this build and CPU can run a BFloat16 encoder: nil when
// they can, else an error saying what is missing (the oneDNN build, or bfloat16 matrix
// instructions: oneDNN has no bfloat16 matmul for a CPU without AVX512-BF16 or AMX).
func BFloat16Support() error {
	_, err := hardwareBF16()
	return err
}

// toBF16 rounds f to the nearest bfloat16, ties to even (PyTorch's and oneDNN's
// rounding); NaNs stay quiet NaNs.
func toBF16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 {
		return uint16(u>>16) | 0x40
	}
	u += 0x7fff + (u>>16)&1
	return uint16(u >> 16)
}

// fromBF16 widens a bfloat16 to float32, exactly.
func fromBF16(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// bf16Matrix returns m's values rounded to bfloat16, same shape.
func bf16Matrix(m matrix) matrix {
	bits := make([]uint16, len(m.data))
	toBF16s(bits, m.data)
	return matrix{rows: m.rows, cols: m.cols, bits: bits}
}

// toBFloat16 turns each layer's four weight matrices into bfloat16 copies (the float32
// ones are left to the checkpoint).
func (w *encoderWeights) toBFloat16() {
	for l := range w.layers {
		for _, p := range []layerParam{pQKVWeight, pAttnOutWeight, pInterWeight, pOutWeight} {
			w.layers[l][p] = bf16Matrix(w.layers[l][p])
		}
	}
}

// linearRowsBF16 is linearRows with bfloat16 weights: x is rounded to bfloat16 into xb
// (len ≥ m·k), the bias broadcast into out, and gemm adds x·wᵀ.
func linearRowsBF16(gemm gemmBF16, out, x []float32, xb, w []uint16, bias []float32, m, n, k int) error {
	parallelFor(m, 16, func(lo, hi int) { toBF16s(xb[lo*k:hi*k], x[lo*k:hi*k]) })
	broadcastRows(out, bias, m, n)
	return gemm(m, n, k, xb[:m*k], w, out)
}

// bf16View views a float32 scratch buffer as bfloat16 storage of twice its length.
func bf16View(f []float32) []uint16 {
	if len(f) == 0 {
		return nil
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(&f[0])), 2*len(f))
}
