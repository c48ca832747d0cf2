//go:build cgo && !noblas && dnnl

// oneDNN glue for the dnnl build: float32 GEMM with a per-call thread count (blas_onednn.go)
// and matmul primitives with a run-time row count (matmul_onednn.go).

#include <stdlib.h>
#include <omp.h>
#include "onednn.h"

// OpenMP keeps the thread count per calling thread, and Go calls C from whichever OS
// thread runs the goroutine, so the count set by SetThreads is re-applied on every call.
static int coldserve_threads;
void coldserve_set_threads(int n) { coldserve_threads = n; }
static int coldserve_blas_threads(void) { return coldserve_threads; }
void coldserve_sgemm(char ta, char tb, dnnl_dim_t m, dnnl_dim_t n, dnnl_dim_t k,
    float alpha, const float *a, dnnl_dim_t lda, const float *b, dnnl_dim_t ldb,
    float beta, float *c, dnnl_dim_t ldc) {
  if (coldserve_threads > 0) omp_set_num_threads(coldserve_threads);
  dnnl_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
// One thread, on the caller's: the OpenMP thread count is per calling thread, so it is
// restored afterwards for the next multi-threaded call made from this thread.
void coldserve_sgemm_serial(char ta, char tb, dnnl_dim_t m, dnnl_dim_t n, dnnl_dim_t k,
    float alpha, const float *a, dnnl_dim_t lda, const float *b, dnnl_dim_t ldb,
    float beta, float *c, dnnl_dim_t ldc) {
  int prev = omp_get_max_threads();
  omp_set_num_threads(1);
  dnnl_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  omp_set_num_threads(prev);
}

static dnnl_engine_t cs_engine;

dnnl_status_t cs_engine_init(void) {
  return dnnl_engine_create(&cs_engine, dnnl_cpu, 0);
}

// cs_matmul_create makes C[m×n] += A[m×k]·Wᵀ with W stored [n, k] row major (oneDNN's
// weights [k, n] in "ba" order), A and W of type dt, C float32, m given at run time.
dnnl_status_t cs_matmul_create(dnnl_data_type_t dt, dnnl_dim_t n, dnnl_dim_t k,
    dnnl_primitive_t *out) {
  dnnl_dims_t sd = {DNNL_RUNTIME_DIM_VAL, k}, wd = {k, n}, dd = {DNNL_RUNTIME_DIM_VAL, n};
  dnnl_memory_desc_t s, w, d;
  dnnl_status_t st;
  if ((st = dnnl_memory_desc_init_by_tag(&s, 2, sd, dt, dnnl_ab)) ||
      (st = dnnl_memory_desc_init_by_tag(&w, 2, wd, dt, dnnl_ba)) ||
      (st = dnnl_memory_desc_init_by_tag(&d, 2, dd, dnnl_f32, dnnl_ab))) return st;
  dnnl_matmul_desc_t md;
  if ((st = dnnl_matmul_desc_init(&md, &s, &w, NULL, &d))) return st;
  dnnl_post_ops_t po = NULL;
  dnnl_primitive_attr_t attr = NULL;
  dnnl_primitive_desc_t pd = NULL;
  if (!(st = dnnl_post_ops_create(&po)) && !(st = dnnl_post_ops_append_sum(po, 1.0f)) &&
      !(st = dnnl_primitive_attr_create(&attr)) && !(st = dnnl_primitive_attr_set_post_ops(attr, po)) &&
      !(st = dnnl_primitive_desc_create(&pd, &md, attr, cs_engine, NULL)))
    st = dnnl_primitive_create(out, pd);
  if (pd) dnnl_primitive_desc_destroy(pd);
  if (attr) dnnl_primitive_attr_destroy(attr);
  if (po) dnnl_post_ops_destroy(po);
  return st;
}

// cs_matmul_impl names the implementation oneDNN chose for p (e.g. "brg:avx512_core_bf16").
const char *cs_matmul_impl(dnnl_primitive_t p) {
  const_dnnl_primitive_desc_t pd;
  const char *impl = "unknown";
  if (dnnl_primitive_get_primitive_desc(p, &pd) == dnnl_success)
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
  return impl;
}

dnnl_status_t cs_matmul_run(dnnl_primitive_t p, dnnl_data_type_t dt,
    dnnl_dim_t m, dnnl_dim_t n, dnnl_dim_t k, const void *a, const void *w, float *c) {
  int threads = coldserve_blas_threads();
  if (threads > 0) omp_set_num_threads(threads);
  dnnl_dims_t sd = {m, k}, wd = {k, n}, dd = {m, n};
  dnnl_memory_desc_t s, wm, d;
  dnnl_memory_t ms = NULL, mw = NULL, md = NULL;
  dnnl_stream_t stream = NULL;
  dnnl_status_t st;
  if (!(st = dnnl_memory_desc_init_by_tag(&s, 2, sd, dt, dnnl_ab)) &&
      !(st = dnnl_memory_desc_init_by_tag(&wm, 2, wd, dt, dnnl_ba)) &&
      !(st = dnnl_memory_desc_init_by_tag(&d, 2, dd, dnnl_f32, dnnl_ab)) &&
      !(st = dnnl_memory_create(&ms, &s, cs_engine, (void *)a)) &&
      !(st = dnnl_memory_create(&mw, &wm, cs_engine, (void *)w)) &&
      !(st = dnnl_memory_create(&md, &d, cs_engine, c)) &&
      !(st = dnnl_stream_create(&stream, cs_engine, dnnl_stream_default_flags))) {
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, md}};
    if (!(st = dnnl_primitive_execute(p, stream, 3, args))) st = dnnl_stream_wait(stream);
  }
  if (stream) dnnl_stream_destroy(stream);
  if (ms) dnnl_memory_destroy(ms);
  if (mw) dnnl_memory_destroy(mw);
  if (md) dnnl_memory_destroy(md);
  return st;
}
