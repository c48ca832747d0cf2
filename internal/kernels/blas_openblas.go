//go:build cgo && !noblas && !dnnl

package kernels

// #cgo LDFLAGS: -lopenblas
// #include <cblas.h>
import "C"

import "unsafe"

// BLAS says which matrix-multiply backend this build uses.
const BLAS = "openblas"

// Sgemm computes C = alpha·op(A)·op(B) + beta·C on row-major float32 matrices, where
// op(X) is X or Xᵀ. m×k is op(A)'s shape, k×n op(B)'s, m×n C's; lda/ldb/ldc are row strides.
// It calls OpenBLAS's cblas_sgemm. Slices must start at the first element of each matrix;
// the caller guarantees their lengths cover the strided extents.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	ta, tb := C.enum_CBLAS_TRANSPOSE(C.CblasNoTrans), C.enum_CBLAS_TRANSPOSE(C.CblasNoTrans)
	if transA {
		ta = C.CblasTrans
	}
	if transB {
		tb = C.CblasTrans
	}
	C.cblas_sgemm(C.CblasRowMajor, ta, tb, C.blasint(m), C.blasint(n), C.blasint(k),
		C.float(alpha), (*C.float)(unsafe.Pointer(&a[0])), C.blasint(lda),
		(*C.float)(unsafe.Pointer(&b[0])), C.blasint(ldb),
		C.float(beta), (*C.float)(unsafe.Pointer(&c[0])), C.blasint(ldc))
}

// SgemmSmall is Sgemm. OpenBLAS shares one process-wide thread count, so the attention
// heads call it one after another (SmallGEMMConcurrent is false).
func SgemmSmall(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SmallGEMMConcurrent says SgemmSmall may run on several goroutines at once.
const SmallGEMMConcurrent = false

// setBLASThreads sets how many threads OpenBLAS uses for one matrix multiply (one
// process-wide pool).
func setBLASThreads(n int) { C.openblas_set_num_threads(C.int(n)) }
