//go:build cgo && !noblas && dnnl

package model

// oneDNN matmul primitives for bfloat16 linear layers. A primitive is created once per weight
// shape (n, k), with the row count m left to run time, so batches of any size share it.
// The same code builds a float32 primitive, which is how it is tested on CPUs that have no
// bfloat16 matmul: only the data type differs.

// #cgo LDFLAGS: -ldnnl -lgomp
// #include <stdlib.h>
// #include <dnnl.h>
// #include <omp.h>
//
// extern int coldserve_blas_threads(void); // blas_dnnl.go: SetBLASThreads
// static dnnl_engine_t cs_engine;
//
// static dnnl_status_t cs_engine_init(void) {
//   return dnnl_engine_create(&cs_engine, dnnl_cpu, 0);
// }
//
// // cs_matmul_create makes C[m×n] += A[m×k]·Wᵀ with W stored [n, k] row major (oneDNN's
// // weights [k, n] in "ba" order), A and W of type dt, C float32, m given at run time.
// static dnnl_status_t cs_matmul_create(dnnl_data_type_t dt, dnnl_dim_t n, dnnl_dim_t k,
//     dnnl_primitive_t *out) {
//   dnnl_dims_t sd = {DNNL_RUNTIME_DIM_VAL, k}, wd = {k, n}, dd = {DNNL_RUNTIME_DIM_VAL, n};
//   dnnl_memory_desc_t s, w, d;
//   dnnl_status_t st;
//   if ((st = dnnl_memory_desc_init_by_tag(&s, 2, sd, dt, dnnl_ab)) ||
//       (st = dnnl_memory_desc_init_by_tag(&w, 2, wd, dt, dnnl_ba)) ||
//       (st = dnnl_memory_desc_init_by_tag(&d, 2, dd, dnnl_f32, dnnl_ab))) return st;
//   dnnl_matmul_desc_t md;
//   if ((st = dnnl_matmul_desc_init(&md, &s, &w, NULL, &d))) return st;
//   dnnl_post_ops_t po = NULL;
//   dnnl_primitive_attr_t attr = NULL;
//   dnnl_primitive_desc_t pd = NULL;
//   if (!(st = dnnl_post_ops_create(&po)) && !(st = dnnl_post_ops_append_sum(po, 1.0f)) &&
//       !(st = dnnl_primitive_attr_create(&attr)) && !(st = dnnl_primitive_attr_set_post_ops(attr, po)) &&
//       !(st = dnnl_primitive_desc_create(&pd, &md, attr, cs_engine, NULL)))
//     st = dnnl_primitive_create(out, pd);
//   if (pd) dnnl_primitive_desc_destroy(pd);
//   if (attr) dnnl_primitive_attr_destroy(attr);
//   if (po) dnnl_post_ops_destroy(po);
//   return st;
// }
//
// static dnnl_status_t cs_matmul_run(dnnl_primitive_t p, dnnl_data_type_t dt,
//     dnnl_dim_t m, dnnl_dim_t n, dnnl_dim_t k, const void *a, const void *w, float *c) {
//   int threads = coldserve_blas_threads();
//   if (threads > 0) omp_set_num_threads(threads);
//   dnnl_dims_t sd = {m, k}, wd = {k, n}, dd = {m, n};
//   dnnl_memory_desc_t s, wm, d;
//   dnnl_memory_t ms = NULL, mw = NULL, md = NULL;
//   dnnl_stream_t stream = NULL;
//   dnnl_status_t st;
//   if (!(st = dnnl_memory_desc_init_by_tag(&s, 2, sd, dt, dnnl_ab)) &&
//       !(st = dnnl_memory_desc_init_by_tag(&wm, 2, wd, dt, dnnl_ba)) &&
//       !(st = dnnl_memory_desc_init_by_tag(&d, 2, dd, dnnl_f32, dnnl_ab)) &&
//       !(st = dnnl_memory_create(&ms, &s, cs_engine, (void *)a)) &&
//       !(st = dnnl_memory_create(&mw, &wm, cs_engine, (void *)w)) &&
//       !(st = dnnl_memory_create(&md, &d, cs_engine, c)) &&
//       !(st = dnnl_stream_create(&stream, cs_engine, dnnl_stream_default_flags))) {
//     dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, md}};
//     if (!(st = dnnl_primitive_execute(p, stream, 3, args))) st = dnnl_stream_wait(stream);
//   }
//   if (stream) dnnl_stream_destroy(stream);
//   if (ms) dnnl_memory_destroy(ms);
//   if (mw) dnnl_memory_destroy(mw);
//   if (md) dnnl_memory_destroy(md);
//   return st;
// }
import "C"

import (
	"fmt"
	"sync"
	"unsafe"
)

// matmulKey is a weight shape: n output features, k input features.
type matmulKey struct{ n, k int }

// dnnlMatmul multiplies by weights of one data type through cached oneDNN primitives. Its
// primitives live as long as the process (a handful: one per distinct weight shape).
type dnnlMatmul struct {
	dt    C.dnnl_data_type_t
	mu    sync.Mutex
	prims map[matmulKey]C.dnnl_primitive_t
}

var (
	dnnlEngine = sync.OnceValue(func() error {
		if st := C.cs_engine_init(); st != C.dnnl_success {
			return fmt.Errorf("oneDNN CPU engine: %s", dnnlStatus(st))
		}
		return nil
	})
	bf16Matmul = sync.OnceValues(func() (*dnnlMatmul, error) { return newDNNLMatmul(C.dnnl_bf16) })
)

func newDNNLMatmul(dt C.dnnl_data_type_t) (*dnnlMatmul, error) {
	if err := dnnlEngine(); err != nil {
		return nil, err
	}
	mm := &dnnlMatmul{dt: dt, prims: map[matmulKey]C.dnnl_primitive_t{}}
	// oneDNN answers "unimplemented" for a data type this CPU cannot multiply: ask now,
	// with roberta-base's hidden size, rather than at the first request.
	if _, err := mm.primitive(matmulKey{768, 768}); err != nil {
		return nil, err
	}
	return mm, nil
}

// primitive returns the cached primitive for key, creating it on first use.
func (mm *dnnlMatmul) primitive(key matmulKey) (C.dnnl_primitive_t, error) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	if p, ok := mm.prims[key]; ok {
		return p, nil
	}
	var p C.dnnl_primitive_t
	if st := C.cs_matmul_create(mm.dt, C.dnnl_dim_t(key.n), C.dnnl_dim_t(key.k), &p); st != C.dnnl_success {
		return nil, fmt.Errorf("oneDNN %s matmul %d×%d: %s", dnnlTypeName(mm.dt), key.n, key.k, dnnlStatus(st))
	}
	mm.prims[key] = p
	return p, nil
}

// mul computes c[m×n] += a[m×k]·wᵀ; a and w hold elements of mm's data type.
func (mm *dnnlMatmul) mul(m, n, k int, a, w unsafe.Pointer, c []float32) error {
	if m == 0 || n == 0 {
		return nil
	}
	p, err := mm.primitive(matmulKey{n, k})
	if err != nil {
		return err
	}
	if st := C.cs_matmul_run(p, mm.dt, C.dnnl_dim_t(m), C.dnnl_dim_t(n), C.dnnl_dim_t(k),
		a, w, (*C.float)(unsafe.Pointer(&c[0]))); st != C.dnnl_success {
		return fmt.Errorf("oneDNN %s matmul %d×%d×%d: %s", dnnlTypeName(mm.dt), m, n, k, dnnlStatus(st))
	}
	return nil
}

// hardwareBF16 returns oneDNN's bfloat16 multiply, or why this CPU has none.
func hardwareBF16() (gemmBF16, error) {
	mm, err := bf16Matmul()
	if err != nil {
		return nil, fmt.Errorf("bfloat16 needs a CPU with AVX512-BF16 or AMX (oneDNN %s): %w", dnnlVersion(), err)
	}
	return func(m, n, k int, a, w []uint16, c []float32) error {
		if m == 0 || n == 0 {
			return nil
		}
		return mm.mul(m, n, k, unsafe.Pointer(&a[0]), unsafe.Pointer(&w[0]), c)
	}, nil
}

func dnnlStatus(st C.dnnl_status_t) string {
	switch st {
	case C.dnnl_unimplemented:
		return "unimplemented on this CPU"
	case C.dnnl_out_of_memory:
		return "out of memory"
	case C.dnnl_invalid_arguments:
		return "invalid arguments"
	}
	return fmt.Sprintf("status %d", int(st))
}

func dnnlTypeName(dt C.dnnl_data_type_t) string {
	switch dt {
	case C.dnnl_bf16:
		return "bfloat16"
	case C.dnnl_f32:
		return "float32"
	}
	return fmt.Sprintf("type %d", int(dt))
}

func dnnlVersion() string {
	v := C.dnnl_version()
	return fmt.Sprintf("%d.%d.%d", v.major, v.minor, v.patch)
}

// float32Matmul is the same primitive code in float32: on CPUs without a bfloat16 matmul it
// is what tests this file.
var float32Matmul = sync.OnceValues(func() (*dnnlMatmul, error) { return newDNNLMatmul(C.dnnl_f32) })
