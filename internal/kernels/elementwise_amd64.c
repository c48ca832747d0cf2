//go:build cgo && !noblas

// Vectorised element-wise kernels for the cgo build on amd64 (elementwise_cgo.go calls them):
// the same maths as kernels.go (the XLA/Eigen rational erf, the Cephes exp polynomial) with
// AVX2+FMA intrinsics chosen at run time when the CPU has them, scalar C otherwise.

#include "elementwise.h"
#include <math.h>
#include <stdint.h>
#include <immintrin.h>

// ---- scalar versions: any x86-64 CPU (and the tails of the vector loops) ----

static inline float cs_erf(float x) {
	x = x < 4.f ? x : 4.f;
	x = x > -4.f ? x : -4.f;
	float x2 = x * x;
	float p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
	p = x2 * p + -2.10102402082508e-06f;
	p = x2 * p + -5.69250639462346e-05f;
	p = x2 * p + -7.34990630326855e-04f;
	p = x2 * p + -2.95459980854025e-03f;
	p = x2 * p + -1.60960333262415e-02f;
	p *= x;
	float q = x2 * -1.45660718464996e-05f + -2.13374055278905e-04f;
	q = x2 * q + -1.68282697438203e-03f;
	q = x2 * q + -7.37332916720468e-03f;
	q = x2 * q + -1.42647390514189e-02f;
	return p / q;
}

// e^x for x <= 0 (softmax after subtracting the row maximum); 0 below -87.3.
static inline float cs_exp_nonpos(float x) {
	if (x < -87.3365447504f) return 0.f;
	if (x > 0.f) x = 0.f;
	float fx = x * 1.44269504088896341f + 0.5f;
	int32_t n = (int32_t)fx;
	n -= (float)n > fx; // floor
	float nf = (float)n;
	float r = x - nf * 0.693359375f;
	r -= nf * -2.12194440e-4f;
	float y = 1.9875691500e-4f;
	y = y * r + 1.3981999507e-3f;
	y = y * r + 8.3334519073e-3f;
	y = y * r + 4.1665795894e-2f;
	y = y * r + 1.6666665459e-1f;
	y = y * r + 5.0000001201e-1f;
	y = y * r * r + r + 1.f;
	union { uint32_t u; float f; } s;
	s.u = (uint32_t)(n + 127) << 23;
	return y * s.f;
}

static void gelu_scalar(float *v, long n) {
	for (long i = 0; i < n; i++) {
		float x = v[i];
		v[i] = 0.5f * x * (1.f + cs_erf(x * 0.70710678118654752440f));
	}
}

static void softmax_scalar(float *s, const float *mask, long n) {
	float m = -3.402823466e38f, sum = 0.f;
	for (long j = 0; j < n; j++) { s[j] += mask[j]; if (s[j] > m) m = s[j]; }
	for (long j = 0; j < n; j++) { s[j] = cs_exp_nonpos(s[j] - m); sum += s[j]; }
	float inv = 1.f / sum;
	for (long j = 0; j < n; j++) s[j] *= inv;
}

// ---- AVX2 + FMA versions, 8 floats at a time ----

#define AVX2 __attribute__((target("avx2,fma")))
#define C8(v) _mm256_set1_ps(v)

AVX2 static inline __m256 erf8(__m256 x) {
	x = _mm256_min_ps(_mm256_max_ps(x, C8(-4.f)), C8(4.f));
	__m256 x2 = _mm256_mul_ps(x, x);
	__m256 p = _mm256_fmadd_ps(x2, C8(-2.72614225801306e-10f), C8(2.77068142495902e-08f));
	p = _mm256_fmadd_ps(x2, p, C8(-2.10102402082508e-06f));
	p = _mm256_fmadd_ps(x2, p, C8(-5.69250639462346e-05f));
	p = _mm256_fmadd_ps(x2, p, C8(-7.34990630326855e-04f));
	p = _mm256_fmadd_ps(x2, p, C8(-2.95459980854025e-03f));
	p = _mm256_fmadd_ps(x2, p, C8(-1.60960333262415e-02f));
	p = _mm256_mul_ps(p, x);
	__m256 q = _mm256_fmadd_ps(x2, C8(-1.45660718464996e-05f), C8(-2.13374055278905e-04f));
	q = _mm256_fmadd_ps(x2, q, C8(-1.68282697438203e-03f));
	q = _mm256_fmadd_ps(x2, q, C8(-7.37332916720468e-03f));
	q = _mm256_fmadd_ps(x2, q, C8(-1.42647390514189e-02f));
	return _mm256_div_ps(p, q);
}

AVX2 static inline __m256 exp8_nonpos(__m256 x) {
	__m256 keep = _mm256_cmp_ps(x, C8(-87.3365447504f), _CMP_GE_OQ);
	x = _mm256_min_ps(_mm256_max_ps(x, C8(-87.3365447504f)), _mm256_setzero_ps());
	__m256 fx = _mm256_floor_ps(_mm256_fmadd_ps(x, C8(1.44269504088896341f), C8(0.5f)));
	__m256 r = _mm256_fnmadd_ps(fx, C8(0.693359375f), x);
	r = _mm256_fnmadd_ps(fx, C8(-2.12194440e-4f), r);
	__m256 y = C8(1.9875691500e-4f);
	y = _mm256_fmadd_ps(y, r, C8(1.3981999507e-3f));
	y = _mm256_fmadd_ps(y, r, C8(8.3334519073e-3f));
	y = _mm256_fmadd_ps(y, r, C8(4.1665795894e-2f));
	y = _mm256_fmadd_ps(y, r, C8(1.6666665459e-1f));
	y = _mm256_fmadd_ps(y, r, C8(5.0000001201e-1f));
	y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, C8(1.f)));
	__m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
	return _mm256_and_ps(_mm256_mul_ps(y, _mm256_castsi256_ps(e)), keep);
}

AVX2 static float hmax8(__m256 v) {
	__m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	m = _mm_max_ps(m, _mm_movehl_ps(m, m));
	m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
	return _mm_cvtss_f32(m);
}

AVX2 static float hsum8(__m256 v) {
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
	return _mm_cvtss_f32(s);
}

AVX2 static void gelu_avx2(float *v, long n) {
	long i = 0;
	for (; i + 8 <= n; i += 8) {
		__m256 x = _mm256_loadu_ps(v + i);
		__m256 e = erf8(_mm256_mul_ps(x, C8(0.70710678118654752440f)));
		_mm256_storeu_ps(v + i, _mm256_mul_ps(_mm256_mul_ps(C8(0.5f), x), _mm256_add_ps(C8(1.f), e)));
	}
	gelu_scalar(v + i, n - i);
}

AVX2 static void softmax_avx2(float *s, const float *mask, long n) {
	long j;
	__m256 vm = C8(-3.402823466e38f);
	float m = -3.402823466e38f;
	for (j = 0; j + 8 <= n; j += 8) {
		__m256 t = _mm256_add_ps(_mm256_loadu_ps(s + j), _mm256_loadu_ps(mask + j));
		_mm256_storeu_ps(s + j, t);
		vm = _mm256_max_ps(vm, t);
	}
	for (; j < n; j++) { s[j] += mask[j]; if (s[j] > m) m = s[j]; }
	float hm = hmax8(vm);
	if (hm > m) m = hm;
	__m256 vmax = C8(m), vsum = _mm256_setzero_ps();
	float sum = 0.f;
	for (j = 0; j + 8 <= n; j += 8) {
		__m256 e = exp8_nonpos(_mm256_sub_ps(_mm256_loadu_ps(s + j), vmax));
		_mm256_storeu_ps(s + j, e);
		vsum = _mm256_add_ps(vsum, e);
	}
	for (; j < n; j++) { s[j] = cs_exp_nonpos(s[j] - m); sum += s[j]; }
	sum += hsum8(vsum);
	__m256 vinv = C8(1.f / sum);
	for (j = 0; j + 8 <= n; j += 8) _mm256_storeu_ps(s + j, _mm256_mul_ps(_mm256_loadu_ps(s + j), vinv));
	for (; j < n; j++) s[j] *= 1.f / sum;
}

// ---- dispatch ----

static int cs_has_avx2(void) {
	static int cached = -1;
	if (cached < 0) {
		__builtin_cpu_init();
		cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
	}
	return cached;
}

void cs_gelu(float *v, long n) {
	if (cs_has_avx2()) gelu_avx2(v, n); else gelu_scalar(v, n);
}

void cs_softmax_rows(float *s, const float *mask, long rows, long n) {
	int avx2 = cs_has_avx2();
	for (long r = 0; r < rows; r++) {
		if (avx2) softmax_avx2(s + r * n, mask, n); else softmax_scalar(s + r * n, mask, n);
	}
}

// ---- residual + LayerNorm (HF: biased variance, eps inside the root; sums in double) ----

static void add_layernorm_scalar(float *out, const float *x, const float *r, const float *g,
		const float *b, long n, double eps) {
	double sum = 0;
	for (long i = 0; i < n; i++) { out[i] = x[i] + r[i]; sum += out[i]; }
	double mean = sum / n, sq = 0;
	for (long i = 0; i < n; i++) { double d = out[i] - mean; sq += d * d; }
	float m32 = (float)mean, inv32 = (float)(1.0 / sqrt(sq / n + eps));
	for (long i = 0; i < n; i++) out[i] = (out[i] - m32) * inv32 * g[i] + b[i];
}

AVX2 static void add_layernorm_avx2(float *out, const float *x, const float *r, const float *g,
		const float *b, long n, double eps) {
	long i = 0;
	__m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
	for (; i + 8 <= n; i += 8) {
		__m256 v = _mm256_add_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(r + i));
		_mm256_storeu_ps(out + i, v);
		s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
		s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
	}
	double lanes[4], sum = 0;
	_mm256_storeu_pd(lanes, _mm256_add_pd(s0, s1));
	for (; i < n; i++) { out[i] = x[i] + r[i]; sum += out[i]; }
	sum += (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
	double mean = sum / n, sq = 0;
	__m256d mv = _mm256_set1_pd(mean);
	s0 = _mm256_setzero_pd(); s1 = _mm256_setzero_pd();
	for (i = 0; i + 8 <= n; i += 8) {
		__m256 v = _mm256_loadu_ps(out + i);
		__m256d d0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), mv);
		__m256d d1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), mv);
		s0 = _mm256_fmadd_pd(d0, d0, s0);
		s1 = _mm256_fmadd_pd(d1, d1, s1);
	}
	_mm256_storeu_pd(lanes, _mm256_add_pd(s0, s1));
	for (; i < n; i++) { double d = out[i] - mean; sq += d * d; }
	sq += (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
	float m32 = (float)mean, inv32 = (float)(1.0 / sqrt(sq / n + eps));
	__m256 m8 = _mm256_set1_ps(m32), inv8 = _mm256_set1_ps(inv32);
	for (i = 0; i + 8 <= n; i += 8) {
		__m256 v = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(out + i), m8), inv8);
		_mm256_storeu_ps(out + i, _mm256_fmadd_ps(v, _mm256_loadu_ps(g + i), _mm256_loadu_ps(b + i)));
	}
	for (; i < n; i++) out[i] = (out[i] - m32) * inv32 * g[i] + b[i];
}

void cs_add_layernorm_rows(float *out, const float *x, const float *r, const float *g,
		const float *b, long rows, long n, double eps) {
	int avx2 = cs_has_avx2();
	for (long k = 0; k < rows; k++) {
		long o = k * n;
		if (avx2) add_layernorm_avx2(out + o, x + o, r + o, g, b, n, eps);
		else add_layernorm_scalar(out + o, x + o, r + o, g, b, n, eps);
	}
}

// ---- float32 -> bfloat16, round to nearest even (PyTorch's and oneDNN's rounding) ----

static inline uint16_t cs_bf16_scalar(float f) {
	union { float f; uint32_t u; } v = { f };
	if ((v.u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((v.u >> 16) | 0x40u); // quiet NaN
	v.u += 0x7fffu + ((v.u >> 16) & 1u);
	return (uint16_t)(v.u >> 16);
}

AVX2 static void to_bf16_avx2(const float *src, uint16_t *dst, long n) {
	const __m256i lsb = _mm256_set1_epi32(1), bias = _mm256_set1_epi32(0x7fff);
	const __m256i qnan = _mm256_set1_epi32(0x40);
	long i = 0;
	for (; i + 16 <= n; i += 16) {
		__m256i r[2];
		for (int h = 0; h < 2; h++) {
			__m256 x = _mm256_loadu_ps(src + i + 8 * h);
			__m256i u = _mm256_castps_si256(x);
			__m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(u,
				_mm256_add_epi32(bias, _mm256_and_si256(_mm256_srli_epi32(u, 16), lsb))), 16);
			__m256i nan = _mm256_castps_si256(_mm256_cmp_ps(x, x, _CMP_UNORD_Q));
			__m256i quiet = _mm256_or_si256(_mm256_srli_epi32(u, 16), qnan);
			r[h] = _mm256_blendv_epi8(rounded, quiet, nan);
		}
		// packus works within 128-bit lanes: put the four 64-bit quarters back in order.
		__m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(r[0], r[1]), 0xD8);
		_mm256_storeu_si256((__m256i *)(dst + i), packed);
	}
	for (; i < n; i++) dst[i] = cs_bf16_scalar(src[i]);
}

void cs_to_bf16(const float *src, uint16_t *dst, long n) {
	if (cs_has_avx2()) { to_bf16_avx2(src, dst, n); return; }
	for (long i = 0; i < n; i++) dst[i] = cs_bf16_scalar(src[i]);
}
