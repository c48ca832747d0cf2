// Element-wise kernels in elementwise_amd64.c, called from elementwise_cgo.go.
#ifndef COLDSERVE_ELEMENTWISE_H
#define COLDSERVE_ELEMENTWISE_H
#include <stdint.h>

void cs_gelu(float *v, long n);
void cs_softmax_rows(float *s, const float *mask, long rows, long n);
void cs_add_layernorm_rows(float *out, const float *x, const float *r, const float *g,
	const float *b, long rows, long n, double eps);
void cs_to_bf16(const float *src, uint16_t *dst, long n);

#endif
