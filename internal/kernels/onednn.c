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

// ---- matmul products with weights packed once (matmul_onednn.go) ----
//
// oneDNN 2.6 picks its fast matmul (brgemm: AVX512-BF16, AMX) only for a row count known when
// the primitive is created and for weights in the blocked layout it asks for. So weights are
// reordered once, at load, into that layout (which does not depend on the row count), and
// each layer machine, whose row count is fixed, creates its own primitives.

// cs_matmul_weights asks oneDNN which layout it wants for W [n, k] of type dt (format "any",
// asked for 128 rows: the row count does not change the answer) and its size in bytes.
dnnl_status_t cs_matmul_weights(dnnl_data_type_t dt, dnnl_dim_t n, dnnl_dim_t k, dnnl_memory_desc_t *md,
    size_t *size) {
  dnnl_dims_t sd = {128, k}, wd = {k, n}, dd = {128, n};
  dnnl_memory_desc_t s, w, d;
  dnnl_status_t st;
  if ((st = dnnl_memory_desc_init_by_tag(&s, 2, sd, dt, dnnl_ab)) ||
      (st = dnnl_memory_desc_init_by_tag(&w, 2, wd, dt, dnnl_format_tag_any)) ||
      (st = dnnl_memory_desc_init_by_tag(&d, 2, dd, dnnl_f32, dnnl_ab))) return st;
  dnnl_matmul_desc_t mdesc;
  dnnl_primitive_desc_t pd = NULL;
  if ((st = dnnl_matmul_desc_init(&mdesc, &s, &w, NULL, &d)) ||
      (st = dnnl_primitive_desc_create(&pd, &mdesc, NULL, cs_engine, NULL))) return st;
  *md = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  *size = dnnl_memory_desc_get_size(md);
  dnnl_primitive_desc_destroy(pd);
  return dnnl_success;
}

// cs_matmul_pack reorders w (W [n, k] row major, i.e. oneDNN's [k, n] "ba") into dst, laid
// out as md.
dnnl_status_t cs_matmul_pack(dnnl_data_type_t dt, const dnnl_memory_desc_t *md, dnnl_dim_t n, dnnl_dim_t k,
    const void *w, void *dst) {
  dnnl_dims_t wd = {k, n};
  dnnl_memory_desc_t plain;
  dnnl_memory_t from = NULL, to = NULL;
  dnnl_primitive_desc_t pd = NULL;
  dnnl_primitive_t ro = NULL;
  dnnl_stream_t stream = NULL;
  dnnl_status_t st;
  if (!(st = dnnl_memory_desc_init_by_tag(&plain, 2, wd, dt, dnnl_ba)) &&
      !(st = dnnl_memory_create(&from, &plain, cs_engine, (void *)w)) &&
      !(st = dnnl_memory_create(&to, md, cs_engine, dst)) &&
      !(st = dnnl_reorder_primitive_desc_create(&pd, &plain, cs_engine, md, cs_engine, NULL)) &&
      !(st = dnnl_primitive_create(&ro, pd)) &&
      !(st = dnnl_stream_create(&stream, cs_engine, dnnl_stream_default_flags))) {
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    if (!(st = dnnl_primitive_execute(ro, stream, 2, args))) st = dnnl_stream_wait(stream);
  }
  if (stream) dnnl_stream_destroy(stream);
  if (ro) dnnl_primitive_destroy(ro);
  if (pd) dnnl_primitive_desc_destroy(pd);
  if (from) dnnl_memory_destroy(from);
  if (to) dnnl_memory_destroy(to);
  return st;
}

// cs_product_create makes C[m×n] = A[m×k]·W + bias (f32) for W laid out as wmd, A of type dt,
// C of type ddt, followed by the exact (erf) GELU when gelu.
dnnl_status_t cs_product_create(dnnl_data_type_t dt, dnnl_data_type_t ddt, const dnnl_memory_desc_t *wmd,
    dnnl_dim_t m, dnnl_dim_t n, dnnl_dim_t k, int gelu, dnnl_primitive_t *out) {
  dnnl_dims_t sd = {m, k}, dd = {m, n}, bd = {1, n};
  dnnl_memory_desc_t s, d, b;
  dnnl_status_t st;
  if ((st = dnnl_memory_desc_init_by_tag(&s, 2, sd, dt, dnnl_ab)) ||
      (st = dnnl_memory_desc_init_by_tag(&d, 2, dd, ddt, dnnl_ab)) ||
      (st = dnnl_memory_desc_init_by_tag(&b, 2, bd, dnnl_f32, dnnl_ab))) return st;
  dnnl_matmul_desc_t md;
  if ((st = dnnl_matmul_desc_init(&md, &s, wmd, &b, &d))) return st;
  dnnl_post_ops_t po = NULL;
  dnnl_primitive_attr_t attr = NULL;
  dnnl_primitive_desc_t pd = NULL;
  if (!(st = dnnl_post_ops_create(&po)) &&
      !(st = gelu ? dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_gelu_erf, 0.f, 0.f) : dnnl_success) &&
      !(st = dnnl_primitive_attr_create(&attr)) && !(st = dnnl_primitive_attr_set_post_ops(attr, po)) &&
      !(st = dnnl_primitive_desc_create(&pd, &md, attr, cs_engine, NULL)))
    st = dnnl_primitive_create(out, pd);
  if (pd) dnnl_primitive_desc_destroy(pd);
  if (attr) dnnl_primitive_attr_destroy(attr);
  if (po) dnnl_post_ops_destroy(po);
  return st;
}

dnnl_status_t cs_product_run(dnnl_primitive_t p, dnnl_data_type_t dt, dnnl_data_type_t ddt,
    const dnnl_memory_desc_t *wmd, dnnl_dim_t m, dnnl_dim_t n, dnnl_dim_t k, const void *a, const void *w,
    const float *bias, void *c) {
  int threads = coldserve_blas_threads();
  if (threads > 0) omp_set_num_threads(threads);
  dnnl_dims_t sd = {m, k}, dd = {m, n}, bd = {1, n};
  dnnl_memory_desc_t s, d, b;
  dnnl_memory_t ms = NULL, mw = NULL, mb = NULL, md = NULL;
  dnnl_stream_t stream = NULL;
  dnnl_status_t st;
  if (!(st = dnnl_memory_desc_init_by_tag(&s, 2, sd, dt, dnnl_ab)) &&
      !(st = dnnl_memory_desc_init_by_tag(&d, 2, dd, ddt, dnnl_ab)) &&
      !(st = dnnl_memory_desc_init_by_tag(&b, 2, bd, dnnl_f32, dnnl_ab)) &&
      !(st = dnnl_memory_create(&ms, &s, cs_engine, (void *)a)) &&
      !(st = dnnl_memory_create(&mw, wmd, cs_engine, (void *)w)) &&
      !(st = dnnl_memory_create(&md, &d, cs_engine, c)) &&
      !(st = dnnl_memory_create(&mb, &b, cs_engine, (void *)bias)) &&
      !(st = dnnl_stream_create(&stream, cs_engine, dnnl_stream_default_flags))) {
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, md}, {DNNL_ARG_BIAS, mb}};
    if (!(st = dnnl_primitive_execute(p, stream, 4, args))) st = dnnl_stream_wait(stream);
  }
  if (stream) dnnl_stream_destroy(stream);
  if (ms) dnnl_memory_destroy(ms);
  if (mw) dnnl_memory_destroy(mw);
  if (mb) dnnl_memory_destroy(mb);
  if (md) dnnl_memory_destroy(md);
  return st;
}
