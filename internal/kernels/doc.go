// Package kernels is the arithmetic under the encoder: matrix multiplies (OpenBLAS, oneDNN or
// gonum, chosen by build tags), the element-wise kernels (GELU, masked softmax, residual
// LayerNorm) and the bfloat16 conversions and multiply.
//
// Every function works on flat row-major float32 (or bfloat16 bit-pattern) slices and knows
// nothing of tensors, graphs or checkpoints. The builds:
//
//	cgo, amd64            OpenBLAS GEMM; element-wise kernels in C with AVX2/FMA chosen at run time
//	cgo, -tags dnnl       oneDNN GEMM and the bfloat16 matmul primitive (AVX512-BF16 or AMX)
//	cgo, other GOARCH     OpenBLAS (or oneDNN) GEMM; element-wise kernels in Go
//	CGO_ENABLED=0, noblas gonum GEMM; element-wise kernels in Go
//
// The float32 linear layers multiply by a Matrix: in the cgo build on amd64 its weights are
// packed once into panels for the AVX-512 or AVX2 micro-kernel of gemm_amd64.c, chosen at run
// time by CPU, and split between the threads of an OpenMP team; everywhere else a Matrix
// multiplies with the build's Sgemm.
//
// The Go element-wise kernels in kernels.go are the reference: the C ones agree with them to
// float32 rounding (TestBuildKernelsMatchGo).
package kernels

import (
	"fmt"
	"strings"

	"golang.org/x/sys/cpu"
)

// Path says which code this build and CPU run: the BLAS backend, the linear layers' kernel,
// the element-wise kernels, the CPU's relevant instruction sets and whether a hardware
// bfloat16 multiply is available.
// Test mains and benchmarks print it, because our machines differ and a result must say
// which path it measured.
func Path() string {
	var flags []string
	for _, f := range []struct {
		on   bool
		name string
	}{
		{cpu.X86.HasAVX2, "avx2"}, {cpu.X86.HasFMA, "fma"}, {cpu.X86.HasAVX512F, "avx512f"},
		{cpu.X86.HasAVX512BF16, "avx512_bf16"}, {cpu.X86.HasAMXTile, "amx_tile"}, {cpu.X86.HasAMXBF16, "amx_bf16"},
	} {
		if f.on {
			flags = append(flags, f.name)
		}
	}
	if len(flags) == 0 {
		flags = append(flags, "none of avx2/avx512/amx")
	}
	bf16 := "bf16 multiply: emulated"
	if b, err := HardwareBF16(); err == nil {
		bf16 = "bf16 multiply: " + b.Name()
	} else {
		bf16 += " (" + err.Error() + ")"
	}
	return fmt.Sprintf("BLAS backend %s; linear layers %s; element-wise kernels %s; CPU flags %s; %s",
		BLAS, LinearKernel(), Elementwise, strings.Join(flags, " "), bf16)
}
