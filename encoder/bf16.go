package encoder

import (
	"fmt"

	"github.com/coldserve/coldserve/internal/kernels"
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

// BFloat16Support reports whether this build and CPU can run a BFloat16 encoder: nil when
// they can, else an error saying what is missing (the oneDNN build, or bfloat16 matrix
// instructions: oneDNN has no bfloat16 matmul for a CPU without AVX512-BF16 or AMX).
func BFloat16Support() error {
	_, err := kernels.HardwareBF16()
	return err
}
