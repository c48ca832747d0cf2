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
// Matmul products with weights packed once into oneDNN's preferred layout, for a fixed m.
dnnl_status_t cs_matmul_weights(dnnl_data_type_t dt, dnnl_dim_t n, dnnl_dim_t k, dnnl_memory_desc_t *md, size_t *size);
dnnl_status_t cs_matmul_pack(dnnl_data_type_t dt, const dnnl_memory_desc_t *md, dnnl_dim_t n, dnnl_dim_t k,
	const void *w, void *dst);
dnnl_status_t cs_product_create(dnnl_data_type_t dt, dnnl_data_type_t ddt, const dnnl_memory_desc_t *wmd,
	dnnl_dim_t m, dnnl_dim_t n, dnnl_dim_t k, int gelu, dnnl_primitive_t *out);
dnnl_status_t cs_product_run(dnnl_primitive_t p, dnnl_data_type_t dt, dnnl_data_type_t ddt,
	const dnnl_memory_desc_t *wmd, dnnl_dim_t m, dnnl_dim_t n, dnnl_dim_t k, const void *a, const void *w,
	const float *bias, void *c);

#endif
