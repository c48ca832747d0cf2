// Packed float32 GEMM in gemm_amd64.c, called from gemm_cgo.go.
#ifndef COLDSERVE_GEMM_H
#define COLDSERVE_GEMM_H

// Micro-kernel choices (gemmISA in Go).
#define CS_GEMM_AVX2 1
#define CS_GEMM_AVX512 2

// Floats of the A-packing buffer each calling thread passes to cs_gemm_packed.
#define CS_GEMM_ABUF 49152

void cs_gemm_pack_rows(const float *w, long rows, long k, long nr, long row0, float *dst);

// cs_gemm_packed computes columns [j0·NR, min(j1·NR, n)) of c[m×n] = a[m×k]·Wᵀ + bias, W [n×k]
// packed by cs_gemm_pack_rows; bias may be NULL; abuf holds CS_GEMM_ABUF floats.
void cs_gemm_packed(int isa, const float *a, long lda, long m, long k, const float *bp, long n,
	long j0, long j1, float *c, long ldc, const float *bias, float *abuf);

// Small products: A packed once (cs_gemm_pack_a into cs_gemm_packed_a_size floats), then
// panels [j0, j1) computed from it, by any number of threads at once.
long cs_gemm_packed_a_size(int isa, long m, long k);
void cs_gemm_pack_a(int isa, const float *a, long lda, long m, long k, float *ap);
void cs_gemm_prepacked(int isa, const float *ap, long m, long k, const float *bp, long n,
	long j0, long j1, float *c, long ldc, const float *bias);

#endif
