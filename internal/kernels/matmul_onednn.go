//go:build cgo && !noblas && dnnl

package kernels

// oneDNN matmul primitives for bfloat16 linear layers. A primitive is created once per weight
// shape (n, k), with the row count m left to run time, so batches of any size share it.
// The same code builds a float32 primitive, which is how it is tested on CPUs that have no
// bfloat16 matmul: only the data type differs.

// #cgo LDFLAGS: -ldnnl -lgomp
// #include "onednn.h"
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

// HardwareBF16 returns oneDNN's bfloat16 multiply, or why this CPU has none.
func HardwareBF16() (GemmBF16, error) {
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

// BF16Impl names oneDNN's implementation of the bfloat16 multiply on this CPU (for
// roberta-base's hidden size), or says why there is none.
func BF16Impl() string {
	mm, err := bf16Matmul()
	if err != nil {
		return "none (" + err.Error() + ")"
	}
	p, err := mm.primitive(matmulKey{768, 768})
	if err != nil {
		return "none (" + err.Error() + ")"
	}
	return "oneDNN " + dnnlVersion() + " " + C.GoString(C.cs_matmul_impl(p))
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
