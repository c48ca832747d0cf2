//go:build !cgo || noblas || !amd64

package kernels

// No packed kernels outside the cgo build on amd64: every Matrix multiplies through Sgemm.

func packedKernels() []gemmKernel { return nil }

func packRows(w []float32, rows, k, nr, row0 int, dst []float32) {
	panic("kernels: no packed GEMM in this build")
}

func gemmWorkSize(kern gemmKernel, m, k, threads int) int {
	panic("kernels: no packed GEMM in this build")
}

func gemmPacked(kern gemmKernel, a []float32, m, k int, packed []float32, n int, c, bias, work []float32, threads int) {
	panic("kernels: no packed GEMM in this build")
}
