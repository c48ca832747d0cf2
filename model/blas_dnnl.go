//go:build cgo && !noblas && dnnl

package model

// #cgo LDFLAGS: -ldnnl -lgomp
// #include <dnnl.h>
// #include <omp.h>
//
// // OpenMP keeps the thread count per calling thread, and Go calls C from whichever OS
// // thread runs the goroutine, so the count set by SetBLASThreads is re-applied on every call.
// static int coldserve_threads;
// static void coldserve_set_threads(int n) { coldserve_threads = n; }
// int coldserve_blas_threads(void) { return coldserve_threads; } // for matmul_dnnl.go
// static void coldserve_sgemm(char ta, char tb, dnnl_dim_t m, dnnl_dim_t n, dnnl_dim_t k,
//     float alpha, const float *a, dnnl_dim_t lda, const float *b, dnnl_dim_t ldb,
//     float beta, float *c, dnnl_dim_t ldc) {
//   if (coldserve_threads > 0) omp_set_num_threads(coldserve_threads);
//   dnnl_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
// }
// // One thread, on the caller's: the OpenMP thread count is per calling thread, so it is
// // restored afterwards for the next multi-threaded call made from this thread.
// static void coldserve_sgemm_serial(char ta, char tb, dnnl_dim_t m, dnnl_dim_t n, dnnl_dim_t k,
//     float alpha, const float *a, dnnl_dim_t lda, const float *b, dnnl_dim_t ldb,
//     float beta, float *c, dnnl_dim_t ldc) {
//   int prev = omp_get_max_threads();
//   omp_set_num_threads(1);
//   dnnl_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
//   omp_set_num_threads(prev);
// }
import "C"

import "unsafe"

// blasName says which matrix-multiply backend this build uses.
const blasName = "onednn"

// sgemm computes C = alpha·op(A)·op(B) + beta·C on row-major float32 matrices, where
// op(X) is X or Xᵀ. m×k is op(A)'s shape, k×n op(B)'s, m×n C's; lda/ldb/ldc are row strides.
// This is the dnnl build tag: oneDNN's dnnl_sgemm (row-major, OpenMP threads; Debian
// libdnnl-dev). Slices must start at the first element of each matrix; the caller guarantees
// their lengths cover the strided extents.
func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	dnnlSgemm(false, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// sgemmSmall is sgemm on the calling thread alone, for products too small to be worth an
// OpenMP team (the attention heads): callers run several at once, one per goroutine.
func sgemmSmall(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	dnnlSgemm(true, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// smallGEMMConcurrent says sgemmSmall may run on several goroutines at once.
const smallGEMMConcurrent = true

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

// SetBLASThreads sets how many OpenMP threads oneDNN uses for one matrix multiply. It is
// process-global: call it once at start-up, before any Forward. n <= 0 leaves the default
// (OMP_NUM_THREADS, else one per core).
func SetBLASThreads(n int) {
	if n > 0 {
		C.coldserve_set_threads(C.int(n))
	}
}
