// Packed float32 GEMM in gemm_amd64.c, called from gemm_cgo.go.
#ifndef COLDSERVE_GEMM_H
#define COLDSERVE_GEMM_H

// Micro-kernel choices (gemmISA in Go).
#define CS_GEMM_AVX2 1
#define CS_GEMM_AVX512 2

// Floats of the A-packing buffer each thread of a larger product packs A into.
#define CS_GEMM_ABUF 49152

// Row counts up to which cs_gemm packs all of A once for its threads (at most 132 × 3072
// floats for roberta-base), which then take panels CS_GEMM_PANEL_CHUNK at a time.
#define CS_GEMM_SHARED_ROWS 128
#define CS_GEMM_PANEL_CHUNK 2

void cs_gemm_pack_rows(const float *w, long rows, long k, long nr, long row0, float *dst);

// cs_gemm computes c[m×n] = a[m×k]·Wᵀ + bias (bias may be NULL) on up to threads threads, W
// [n×k] packed by cs_gemm_pack_rows, with cs_gemm_work_size floats of work.
long cs_gemm_work_size(int isa, long m, long k, int threads);
void cs_gemm(int isa, const float *a, long m, long k, const float *bp, long n, float *c,
	const float *bias, float *work, int threads);

#endif
