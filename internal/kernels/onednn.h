// oneDNN glue in onednn.c, called from blas_onednn.go and matmul_onednn.go.
#ifndef COLDSERVE_ONEDNN_H
#define COLDSERVE_ONEDNN_H
#include <dnnl.h>

void coldserve_set_threads(int n);
void coldserve_sgemm(char ta, char tb, dnnl_dim_t m, dnnl_dim_t n, dnnl_dim_t k,
	float alpha, const float *a, dnnl_dim_t lda, const float *b, dnnl_dim_t ldb,
	float beta, float *c, dnnl_dim_t ldc);
void coldserve_sgemm_serial(char ta, char tb, dnnl_dim_t m, dnnl_dim_t n, dnnl_dim_t k,
	float alpha, const float *a, dnnl_dim_t lda, const float *b, dnnl_dim_t ldb,
	float beta, float *c, dnnl_dim_t ldc);

dnnl_status_t cs_engine_init(void);
// cs_matmul_create makes C[m×n] += A[m×k]·Wᵀ with W stored [n, k] row major, m at run time.
dnnl_status_t cs_matmul_create(dnnl_data_type_t dt, dnnl_dim_t n, dnnl_dim_t k, dnnl_primitive_t *out);
const char *cs_matmul_impl(dnnl_primitive_t p);
dnnl_status_t cs_matmul_run(dnnl_primitive_t p, dnnl_data_type_t dt,
	dnnl_dim_t m, dnnl_dim_t n, dnnl_dim_t k, const void *a, const void *w, float *c);

#endif
