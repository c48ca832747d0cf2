//go:build cgo && !noblas

// Packed float32 GEMM for the linear layers (gemm_cgo.go calls it): C = A·Wᵀ + bias, with W
// packed once, at load, into panels of NR output features, each stored k-major ([k][NR]), so
// the inner loop reads one contiguous stream of weights. This is the layout MLAS (ONNX Runtime)
// and BLIS use. Two micro-kernels, chosen by the caller at run time:
//
//	isa 2: AVX-512F, 12 rows × 32 columns (24 zmm accumulators), NR = 32
//	isa 1: AVX2+FMA,  6 rows × 16 columns (12 ymm accumulators), NR = 16
//
// A is copied, one block of rows by KC columns at a time, into [KC][MR] strips, so the
// micro-kernel broadcasts from one contiguous stream too (unpacked rows 4 KiB apart would
// fight over the same L1 sets). cs_gemm splits the panels between the threads of an OpenMP
// team (see there).

#include "gemm.h"
#include <immintrin.h>
#include <omp.h>

// Blocking: K is cut into equal chunks of at most KC_MAX (roberta-base's 768 in one, 3072 in
// three), and rows into blocks of MC whose packed A (MC × KC floats) fits CS_GEMM_ABUF.
#define KC_MAX 1024

// cs_gemm_pack_rows copies rows [0, rows) of w ([rows][k], row-major) into the packed matrix dst
// as its rows row0.., i.e. dst[((r/nr)·k + p)·nr + r%nr] = w[r - row0][p] for r = row0 + i.
// dst must be zeroed beforehand where a panel has no row (the last panel's tail).
void cs_gemm_pack_rows(const float *w, long rows, long k, long nr, long row0, float *dst) {
	for (long i = 0; i < rows; i++) {
		long r = row0 + i;
		float *d = dst + (r / nr) * k * nr + r % nr;
		const float *s = w + i * k;
		for (long p = 0; p < k; p++) d[p * nr] = s[p];
	}
}

// pack_a copies rows [0, mc) × columns [0, kc) of a (row stride lda) into strips of mr rows,
// each [kc][mr]; the last strip's missing rows are zero.
static inline void pack_a(const float *a, long lda, long mc, long kc, long mr, float *dst) {
	for (long i0 = 0; i0 < mc; i0 += mr) {
		long rows = mc - i0 < mr ? mc - i0 : mr;
		float *d = dst + i0 * kc;
		for (long p = 0; p < kc; p++) {
			long i = 0;
			for (; i < rows; i++) d[p * mr + i] = a[(i0 + i) * lda + p];
			for (; i < mr; i++) d[p * mr + i] = 0.f;
		}
	}
}

// ---- AVX-512F: 12 × 32 ----

#define A512 __attribute__((target("avx512f,fma")))
#define MR512 12
#define NR512 32

// uk512 computes an MR × 32 tile over kc: first chunk C = acc + bias (bias may be NULL), later
// chunks C += acc. m0/m1 mask the columns that exist (the last panel may be narrower).
// Called with a constant MR, so the accumulators stay in registers.
A512 static inline __attribute__((always_inline)) void uk512(const int MR, long kc, const float *ap,
		const float *bp, float *c, long ldc, __mmask16 m0, __mmask16 m1, int first, const float *bias) {
	__m512 acc[MR512][2];
	for (int i = 0; i < MR; i++) {
		acc[i][0] = _mm512_setzero_ps();
		acc[i][1] = _mm512_setzero_ps();
	}
	for (long p = 0; p < kc; p++) {
		__m512 b0 = _mm512_loadu_ps(bp + p * NR512), b1 = _mm512_loadu_ps(bp + p * NR512 + 16);
		for (int i = 0; i < MR; i++) {
			__m512 av = _mm512_set1_ps(ap[p * MR512 + i]);
			acc[i][0] = _mm512_fmadd_ps(av, b0, acc[i][0]);
			acc[i][1] = _mm512_fmadd_ps(av, b1, acc[i][1]);
		}
	}
	__m512 c0 = _mm512_setzero_ps(), c1 = _mm512_setzero_ps();
	if (first && bias) {
		c0 = _mm512_maskz_loadu_ps(m0, bias);
		c1 = _mm512_maskz_loadu_ps(m1, bias + 16);
	}
	for (int i = 0; i < MR; i++) {
		float *ci = c + i * ldc;
		if (!first) {
			c0 = _mm512_maskz_loadu_ps(m0, ci);
			c1 = _mm512_maskz_loadu_ps(m1, ci + 16);
		}
		_mm512_mask_storeu_ps(ci, m0, _mm512_add_ps(acc[i][0], c0));
		_mm512_mask_storeu_ps(ci + 16, m1, _mm512_add_ps(acc[i][1], c1));
	}
}

A512 static void block512(long mc, long kc, const float *ap, const float *bp, float *c, long ldc,
		long cols, int first, const float *bias) {
	__mmask16 m0 = cols >= 16 ? 0xffff : (__mmask16)((1u << cols) - 1);
	__mmask16 m1 = cols >= 32 ? 0xffff : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1);
	long i = 0;
	for (; i + MR512 <= mc; i += MR512) uk512(MR512, kc, ap + i * kc, bp, c + i * ldc, ldc, m0, m1, first, bias);
	ap += i * kc;
	c += i * ldc;
	switch (mc - i) {
#define TAIL(r) case r: uk512(r, kc, ap, bp, c, ldc, m0, m1, first, bias); break;
	TAIL(11) TAIL(10) TAIL(9) TAIL(8) TAIL(7) TAIL(6) TAIL(5) TAIL(4) TAIL(3) TAIL(2) TAIL(1)
#undef TAIL
	}
}

// ---- AVX2+FMA: 6 × 16 ----

#define AVX2 __attribute__((target("avx2,fma")))
#define MR256 6
#define NR256 16

AVX2 static inline __attribute__((always_inline)) void uk256(const int MR, long kc, const float *ap,
		const float *bp, float *c, long ldc, __m256i m0, __m256i m1, int first, const float *bias) {
	__m256 acc[MR256][2];
	for (int i = 0; i < MR; i++) {
		acc[i][0] = _mm256_setzero_ps();
		acc[i][1] = _mm256_setzero_ps();
	}
	for (long p = 0; p < kc; p++) {
		__m256 b0 = _mm256_loadu_ps(bp + p * NR256), b1 = _mm256_loadu_ps(bp + p * NR256 + 8);
		for (int i = 0; i < MR; i++) {
			__m256 av = _mm256_broadcast_ss(ap + p * MR256 + i);
			acc[i][0] = _mm256_fmadd_ps(av, b0, acc[i][0]);
			acc[i][1] = _mm256_fmadd_ps(av, b1, acc[i][1]);
		}
	}
	__m256 c0 = _mm256_setzero_ps(), c1 = _mm256_setzero_ps();
	if (first && bias) {
		c0 = _mm256_maskload_ps(bias, m0);
		c1 = _mm256_maskload_ps(bias + 8, m1);
	}
	for (int i = 0; i < MR; i++) {
		float *ci = c + i * ldc;
		if (!first) {
			c0 = _mm256_maskload_ps(ci, m0);
			c1 = _mm256_maskload_ps(ci + 8, m1);
		}
		_mm256_maskstore_ps(ci, m0, _mm256_add_ps(acc[i][0], c0));
		_mm256_maskstore_ps(ci + 8, m1, _mm256_add_ps(acc[i][1], c1));
	}
}

AVX2 static void block256(long mc, long kc, const float *ap, const float *bp, float *c, long ldc,
		long cols, int first, const float *bias) {
	__m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	__m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)cols), lane);
	__m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)cols - 8), lane);
	long i = 0;
	for (; i + MR256 <= mc; i += MR256) uk256(MR256, kc, ap + i * kc, bp, c + i * ldc, ldc, m0, m1, first, bias);
	ap += i * kc;
	c += i * ldc;
	switch (mc - i) {
#define TAIL(r) case r: uk256(r, kc, ap, bp, c, ldc, m0, m1, first, bias); break;
	TAIL(5) TAIL(4) TAIL(3) TAIL(2) TAIL(1)
#undef TAIL
	}
}

// ---- driver ----

// tile_rows is the micro-kernel's MR, panel_cols its NR (a packed panel's width).
static inline long tile_rows(int isa) { return isa == CS_GEMM_AVX512 ? MR512 : MR256; }
static inline long panel_cols(int isa) { return isa == CS_GEMM_AVX512 ? NR512 : NR256; }

// padded_rows is m rounded up to whole tiles: the rows A packed once occupies.
static inline long padded_rows(int isa, long m) {
	long mr = tile_rows(isa);
	return (m + mr - 1) / mr * mr;
}

// kchunk is the K chunk length: K cut into equal chunks of at most KC_MAX.
static inline long kchunk(long k) {
	long chunks = (k + KC_MAX - 1) / KC_MAX;
	return (k + chunks - 1) / chunks;
}

// panels computes rows [0, mc) of panels [j0, j1) for one K chunk [pc, pc + kc), A packed in ap.
static void panels(int isa, long mc, long kc, long pc, long k, const float *ap, const float *bp, long n,
		long j0, long j1, float *c, long ldc, const float *bias) {
	long nr = panel_cols(isa);
	for (long j = j0; j < j1; j++) {
		long cols = n - j * nr < nr ? n - j * nr : nr;
		const float *bj = bp + (j * k + pc) * nr;
		const float *bb = bias ? bias + j * nr : 0;
		float *cj = c + j * nr;
		if (isa == CS_GEMM_AVX512) block512(mc, kc, ap, bj, cj, ldc, cols, pc == 0, bb);
		else block256(mc, kc, ap, bj, cj, ldc, cols, pc == 0, bb);
	}
}

static void gemm_packed(int isa, const float *a, long lda, long m, long k, const float *bp, long n,
		long j0, long j1, float *c, long ldc, const float *bias, float *abuf) {
	long mr = tile_rows(isa), kcs = kchunk(k);
	long mcs = CS_GEMM_ABUF / kcs / mr * mr;
	if (mcs < mr) mcs = mr; // only when k > CS_GEMM_ABUF / mr, which KC_MAX rules out
	for (long ic = 0; ic < m; ic += mcs) {
		long mc = m - ic < mcs ? m - ic : mcs;
		for (long pc = 0; pc < k; pc += kcs) {
			long kc = k - pc < kcs ? k - pc : kcs;
			pack_a(a + ic * lda + pc, lda, mc, kc, mr, abuf);
			panels(isa, mc, kc, pc, k, abuf, bp, n, j0, j1, c + ic * ldc, ldc, bias);
		}
	}
}

// Small products (m <= CS_GEMM_SHARED_ROWS) pack all of A once, so that the threads share it
// while they take panels a few at a time: chunk by chunk of K, strips of MR rows, i.e. chunk
// [pc, pc + kc) at ap + pc·mpad, mpad = padded_rows.
static void pack_a_all(int isa, const float *a, long lda, long m, long k, float *ap) {
	long kcs = kchunk(k), mpad = padded_rows(isa, m);
	for (long pc = 0; pc < k; pc += kcs) {
		long kc = k - pc < kcs ? k - pc : kcs;
		pack_a(a + pc, lda, m, kc, tile_rows(isa), ap + pc * mpad);
	}
}

static void gemm_prepacked(int isa, const float *ap, long m, long k, const float *bp, long n,
		long j0, long j1, float *c, long ldc, const float *bias) {
	long kcs = kchunk(k), mpad = padded_rows(isa, m);
	for (long pc = 0; pc < k; pc += kcs) {
		long kc = k - pc < kcs ? k - pc : kcs;
		panels(isa, m, kc, pc, k, ap + pc * mpad, bp, n, j0, j1, c, ldc, bias);
	}
}

// cs_gemm_work_size is how many floats of work buffer cs_gemm needs.
long cs_gemm_work_size(int isa, long m, long k, int threads) {
	if (m <= CS_GEMM_SHARED_ROWS) return padded_rows(isa, m) * k;
	return (long)threads * CS_GEMM_ABUF;
}

// cs_gemm computes c[m×n] = a[m×k]·Wᵀ + bias on up to `threads` threads.
//
// The threads are an OpenMP team: libgomp keeps its threads between products and lets them
// spin a while before they sleep, so the next product of a forward pass (about fifty per
// pass, microseconds apart) starts on threads that are awake. Goroutines woken per product
// started ~100 µs late on a VM, a third of a 16-row product, and threads spinning inside Go
// hold a P and fight the scheduler for it.
//
// Small products share A packed once and take panels dynamically, so a thread that starts
// late takes fewer. Larger ones give each thread an equal share of the panels, and each
// thread packs A block by block into its own CS_GEMM_ABUF floats of work.
void cs_gemm(int isa, const float *a, long m, long k, const float *bp, long n, float *c,
		const float *bias, float *work, int threads) {
	long nr = panel_cols(isa), np = (n + nr - 1) / nr;
	if (threads < 1) threads = 1;
	if (m <= CS_GEMM_SHARED_ROWS) {
		pack_a_all(isa, a, k, m, k, work);
		long chunks = (np + CS_GEMM_PANEL_CHUNK - 1) / CS_GEMM_PANEL_CHUNK;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) if (threads > 1 && chunks > 1)
		for (long q = 0; q < chunks; q++) {
			long j0 = q * CS_GEMM_PANEL_CHUNK, j1 = j0 + CS_GEMM_PANEL_CHUNK < np ? j0 + CS_GEMM_PANEL_CHUNK : np;
			gemm_prepacked(isa, work, m, k, bp, n, j0, j1, c, n, bias);
		}
		return;
	}
#pragma omp parallel num_threads(threads) if (threads > 1 && np > 1)
	{
		long t = omp_get_thread_num(), nt = omp_get_num_threads(), per = (np + nt - 1) / nt;
		long j0 = t * per, j1 = j0 + per < np ? j0 + per : np;
		if (j0 < j1) gemm_packed(isa, a, k, m, k, bp, n, j0, j1, c, n, bias, work + t * CS_GEMM_ABUF);
	}
}
