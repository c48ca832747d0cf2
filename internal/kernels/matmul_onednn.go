//go:build cgo && !noblas && dnnl

package kernels

// oneDNN matmul primitives for the bfloat16 linear layers. Weights are reordered once into the
// layout oneDNN asks for (blocked for its brgemm kernels on AVX512-BF16 and AMX), and each
// product is created for one row count, which is what makes oneDNN 2.6 pick those kernels: with
// a row count left to run time it falls back to its generic gemm, about half as fast at 16
// rows. The same code builds float32 products, which is how it is tested on CPUs that have no
// bfloat16 matmul: only the data type differs.

// #cgo LDFLAGS: -ldnnl -lgomp
// #include "onednn.h"
import "C"

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

var dnnlEngine = sync.OnceValue(func() error {
	if st := C.cs_engine_init(); st != C.dnnl_success {
		return fmt.Errorf("oneDNN CPU engine: %s", dnnlStatus(st))
	}
	return nil
})

// dnnlMatmul is the oneDNN backend for one data type of A and W (products write float32).
type dnnlMatmul struct {
	dt   C.dnnl_data_type_t
	impl string // the implementation oneDNN picked, for Name

	mu  sync.Mutex
	mds map[[2]int]C.dnnl_memory_desc_t // the weights layout for each n×k
}

var bf16Matmul = sync.OnceValues(func() (*dnnlMatmul, error) { return newDNNLMatmul(C.dnnl_bf16) })

// float32Matmul is the same code in float32: on CPUs without a bfloat16 matmul it is what
// tests this file.
var float32Matmul = sync.OnceValues(func() (*dnnlMatmul, error) { return newDNNLMatmul(C.dnnl_f32) })

func newDNNLMatmul(dt C.dnnl_data_type_t) (*dnnlMatmul, error) {
	if err := dnnlEngine(); err != nil {
		return nil, err
	}
	mm := &dnnlMatmul{dt: dt, mds: map[[2]int]C.dnnl_memory_desc_t{}}
	// oneDNN answers "unimplemented" for a data type this CPU cannot multiply: ask now, with
	// roberta-base's hidden size, rather than at the first request.
	p, err := mm.product(16, 768, 768, false)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	var pd C.const_dnnl_primitive_desc_t
	impl := (*C.char)(nil)
	if C.dnnl_primitive_get_primitive_desc(p.p, &pd) == C.dnnl_success {
		C.dnnl_primitive_desc_query(pd, C.dnnl_query_impl_info_str, 0, unsafe.Pointer(&impl))
	}
	mm.impl = fmt.Sprintf("oneDNN %s %s", dnnlVersion(), C.GoString(impl))
	return mm, nil
}

// HardwareBF16 returns oneDNN's bfloat16 backend, or why this CPU has none.
func HardwareBF16() (BF16, error) {
	mm, err := bf16Matmul()
	if err != nil {
		return nil, fmt.Errorf("bfloat16 needs a CPU with AVX512-BF16 or AMX (oneDNN %s): %w", dnnlVersion(), err)
	}
	return mm, nil
}

func (mm *dnnlMatmul) Name() string { return mm.impl }

// weightsDesc is the layout oneDNN wants for n×k weights, asked once per shape.
func (mm *dnnlMatmul) weightsDesc(n, k int) (C.dnnl_memory_desc_t, int, error) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	md, ok := mm.mds[[2]int{n, k}]
	if !ok {
		var size C.size_t
		if st := C.cs_matmul_weights(mm.dt, C.dnnl_dim_t(n), C.dnnl_dim_t(k), &md, &size); st != C.dnnl_success {
			return md, 0, fmt.Errorf("oneDNN %s weights %d×%d: %s", dnnlTypeName(mm.dt), n, k, dnnlStatus(st))
		}
		mm.mds[[2]int{n, k}] = md
	}
	return md, int(C.dnnl_memory_desc_get_size(&md)), nil
}

// dnnlWeights is W in oneDNN's layout (data holds md's bytes).
type dnnlWeights struct {
	n, k int
	md   C.dnnl_memory_desc_t
	data []byte
}

func (w *dnnlWeights) Rows() int { return w.n }
func (w *dnnlWeights) Cols() int { return w.k }

func (mm *dnnlMatmul) Weights(k int, parts ...[]float32) (BF16Weights, error) {
	n, all, err := stackRows(k, parts, true)
	if err != nil {
		return nil, err
	}
	if mm.dt == C.dnnl_f32 {
		return mm.pack(n, k, unsafe.Pointer(&all[0]))
	}
	bits := make([]uint16, len(all))
	ToBF16s(bits, all)
	return mm.pack(n, k, unsafe.Pointer(&bits[0]))
}

// pack reorders plain row-major n×k weights of mm's type into oneDNN's layout.
func (mm *dnnlMatmul) pack(n, k int, plain unsafe.Pointer) (*dnnlWeights, error) {
	md, size, err := mm.weightsDesc(n, k)
	if err != nil {
		return nil, err
	}
	w := &dnnlWeights{n: n, k: k, md: md, data: make([]byte, size)}
	if st := C.cs_matmul_pack(mm.dt, &w.md, C.dnnl_dim_t(n), C.dnnl_dim_t(k), plain, unsafe.Pointer(&w.data[0])); st != C.dnnl_success {
		return nil, fmt.Errorf("oneDNN %s reorder of %d×%d weights: %s", dnnlTypeName(mm.dt), n, k, dnnlStatus(st))
	}
	return w, nil
}

func (mm *dnnlMatmul) Product(m, n, k int, gelu bool) (BF16Product, error) {
	return mm.product(m, n, k, gelu)
}

// dnnlProduct is one primitive: m×k of mm's type times packed n×k weights, plus a float32
// bias, then GELU when gelu, into float32.
type dnnlProduct struct {
	mm      *dnnlMatmul
	p       C.dnnl_primitive_t
	m, n, k int
	md      C.dnnl_memory_desc_t
	cleanup runtime.Cleanup // destroys p if the product is dropped without Close
}

func (mm *dnnlMatmul) product(m, n, k int, gelu bool) (*dnnlProduct, error) {
	md, _, err := mm.weightsDesc(n, k)
	if err != nil {
		return nil, err
	}
	pr := &dnnlProduct{mm: mm, m: m, n: n, k: k, md: md}
	g := C.int(0)
	if gelu {
		g = 1
	}
	if st := C.cs_product_create(mm.dt, C.dnnl_f32, &pr.md, C.dnnl_dim_t(m), C.dnnl_dim_t(n), C.dnnl_dim_t(k),
		g, &pr.p); st != C.dnnl_success {
		return nil, fmt.Errorf("oneDNN %s matmul %d×%d×%d: %s", dnnlTypeName(mm.dt), m, n, k, dnnlStatus(st))
	}
	pr.cleanup = runtime.AddCleanup(pr, func(p C.dnnl_primitive_t) { C.dnnl_primitive_destroy(p) }, pr.p)
	return pr, nil
}

func (p *dnnlProduct) Close() {
	if p.p != nil {
		p.cleanup.Stop()
		C.dnnl_primitive_destroy(p.p)
		p.p = nil
	}
}

func (p *dnnlProduct) Run(out []float32, xb []uint16, w BF16Weights, bias []float32) error {
	if len(xb) < p.m*p.k {
		return fmt.Errorf("oneDNN matmul %d×%d×%d: %d input values", p.m, p.n, p.k, len(xb))
	}
	return p.run(out, unsafe.Pointer(&xb[0]), w, bias)
}

// run is Run with A of the product's type at a.
func (p *dnnlProduct) run(out []float32, a unsafe.Pointer, w BF16Weights, bias []float32) error {
	dw, ok := w.(*dnnlWeights)
	if !ok || dw.n != p.n || dw.k != p.k {
		return fmt.Errorf("oneDNN matmul %d×%d×%d: weights %T do not fit", p.m, p.n, p.k, w)
	}
	if len(out) < p.m*p.n || len(bias) < p.n {
		return fmt.Errorf("oneDNN matmul %d×%d×%d: output of %d, bias of %d values", p.m, p.n, p.k, len(out), len(bias))
	}
	if st := C.cs_product_run(p.p, p.mm.dt, C.dnnl_f32, &dw.md, C.dnnl_dim_t(p.m), C.dnnl_dim_t(p.n), C.dnnl_dim_t(p.k),
		a, unsafe.Pointer(&dw.data[0]), (*C.float)(unsafe.Pointer(&bias[0])), unsafe.Pointer(&out[0])); st != C.dnnl_success {
		return fmt.Errorf("oneDNN %s matmul %d×%d×%d: %s", dnnlTypeName(p.mm.dt), p.m, p.n, p.k, dnnlStatus(st))
	}
	return nil
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
