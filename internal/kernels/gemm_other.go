//go:build !cgo || noblas || !amd64

package kernels

// No packed kernels outside the cgo build on amd64: every Matrix multiplies through Sgemm.

const gemmABuf = 0

func packedKernels() []gemmKernel { return nil }

func packRows(w []float32, rows, k, nr, row0 int, dst []float32) {
	panic("kernels: no packed GEMM in this build")
}

func gemmPanels(kern gemmKernel, a []float32, m, k int, packed []float32, n, j0, j1 int, c, bias, abuf []float32) {
	panic("kernels: no packed GEMM in this build")
}

func packedASize(kern gemmKernel, m, k int) int { panic("kernels: no packed GEMM in this build") }

func packA(kern gemmKernel, a []float32, m, k int, ap []float32) {
	panic("kernels: no packed GEMM in this build")
}

func gemmPrepacked(kern gemmKernel, ap []float32, m, k int, packed []float32, n, j0, j1 int, c, bias []float32) {
	panic("kernels: no packed GEMM in this build")
}
