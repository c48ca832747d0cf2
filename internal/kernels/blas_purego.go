//go:build !cgo || noblas

package kernels

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// BLAS says which matrix-multiply backend this build uses.
const BLAS = "gonum"

// Sgemm computes C = alpha·op(A)·op(B) + beta·C on row-major float32 matrices, where
// op(X) is X or Xᵀ. m×k is op(A)'s shape, k×n op(B)'s, m×n C's; lda/ldb/ldc are row strides.
// This is the pure-Go build (no cgo, or the noblas tag): gonum's native kernels.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	gonum.Implementation{}.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmSmall is Sgemm: gonum runs small products on the calling goroutine.
func SgemmSmall(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SmallGEMMConcurrent says SgemmSmall may run on several goroutines at once.
const SmallGEMMConcurrent = true

// setBLASThreads does nothing in the pure-Go build: gonum splits large products across
// goroutines itself (bounded by GOMAXPROCS).
func setBLASThreads(int) {}
