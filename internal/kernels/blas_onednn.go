//go:build cgo && !noblas && dnnl

package kernels

// #cgo LDFLAGS: -ldnnl -lgomp
// #include "onednn.h"
import "C"

import "unsafe"

// BLAS says which matrix-multiply backend this build uses.
const BLAS = "onednn"

// Sgemm computes C = alpha·op(A)·op(B) + beta·C on row-major float32 matrices, where
// op(X) is X or Xᵀ. m×k is op(A)'s shape, k×n op(B)'s, m×n C's; lda/ldb/ldc are row strides.
// This is the dnnl build tag: oneDNN's dnnl_sgemm (row-major, OpenMP threads; Debian
// libdnnl-dev). Slices must start at the first element of each matrix; the caller guarantees
// their lengths cover the strided extents.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	dnnlSgemm(false, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmSmall is Sgemm on the calling thread alone, for products too small to be worth an
// OpenMP team (the attention heads): callers run several at once, one per goroutine.
func SgemmSmall(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	dnnlSgemm(true, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SmallGEMMConcurrent says SgemmSmall may run on several goroutines at once.
const SmallGEMMConcurrent = true

func dnnlSgemm(serial, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	ta, tb := C.char('N'), C.char('N')
	if transA {
		ta = 'T'
	}
	if transB {
		tb = 'T'
	}
	pa, pb, pc := (*C.float)(unsafe.Pointer(&a[0])), (*C.float)(unsafe.Pointer(&b[0])), (*C.float)(unsafe.Pointer(&c[0]))
	// The status can only report bad arguments, which the callers' shapes rule out.
	if serial {
		C.coldserve_sgemm_serial(ta, tb, C.dnnl_dim_t(m), C.dnnl_dim_t(n), C.dnnl_dim_t(k),
			C.float(alpha), pa, C.dnnl_dim_t(lda), pb, C.dnnl_dim_t(ldb), C.float(beta), pc, C.dnnl_dim_t(ldc))
		return
	}
	C.coldserve_sgemm(ta, tb, C.dnnl_dim_t(m), C.dnnl_dim_t(n), C.dnnl_dim_t(k),
		C.float(alpha), pa, C.dnnl_dim_t(lda), pb, C.dnnl_dim_t(ldb), C.float(beta), pc, C.dnnl_dim_t(ldc))
}

// setBLASThreads sets how many OpenMP threads oneDNN uses for one matrix multiply.
func setBLASThreads(n int) { C.coldserve_set_threads(C.int(n)) }
