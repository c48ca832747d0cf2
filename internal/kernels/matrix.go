package kernels

import (
	"fmt"
	"os"
	"slices"
	"sync"
)

// gemmKernel is the code that multiplies by a Matrix: the build's Sgemm, or one of the packed
// micro-kernels of gemm_amd64.c (the values are the C side's CS_GEMM_* constants).
type gemmKernel int

const (
	gemmBLAS   gemmKernel = 0
	gemmAVX2   gemmKernel = 1 // 6×16 tiles, panels of 16 rows of W
	gemmAVX512 gemmKernel = 2 // 12×32 tiles, panels of 32 rows of W
)

func (k gemmKernel) String() string {
	switch k {
	case gemmAVX2:
		return "packed avx2 6x16"
	case gemmAVX512:
		return "packed avx512 12x32"
	}
	return "blas " + BLAS
}

// panel is how many rows of W one packed panel holds (the micro-kernel's width).
func (k gemmKernel) panel() int {
	switch k {
	case gemmAVX2:
		return 16
	case gemmAVX512:
		return 32
	}
	return 0
}

// linearKernel is the kernel new matrices use: the fastest packed kernel the CPU runs, else
// the build's Sgemm. COLDSERVE_GEMM=blas|avx2|avx512 picks one for A/B measurements (a
// kernel the CPU lacks falls back to the default).
var linearKernel = sync.OnceValue(func() gemmKernel {
	ks := packedKernels()
	if want := os.Getenv("COLDSERVE_GEMM"); want != "" {
		if want == "blas" {
			return gemmBLAS
		}
		for _, k := range ks {
			if want == map[gemmKernel]string{gemmAVX2: "avx2", gemmAVX512: "avx512"}[k] {
				return k
			}
		}
	}
	if len(ks) > 0 {
		return ks[0]
	}
	return gemmBLAS
})

// LinearKernel names the kernel of the linear layers on this build and CPU.
func LinearKernel() string { return linearKernel().String() }

// Matrix is a weight matrix W [n, k] in the checkpoint's [out, in] layout, stored the way
// this build's and CPU's linear kernel reads it. With a packed kernel (cgo on amd64 with AVX2
// or AVX-512) the rows are copied once into panels of 16 or 32 rows, k-major, so a product
// streams the weights in order and needs no per-call packing: that is what makes a 16-row
// product fast. Otherwise the matrix keeps the slices it was given (no copy) and multiplies
// with Sgemm.
//
// A Matrix may stack several parts with the same k (query, key and value): one Linear then
// computes all their outputs side by side, and the packed copy is the only one the encoder
// keeps.
type Matrix struct {
	n, k   int
	kernel gemmKernel
	packed []float32   // packed kernels: panels [n/panel][k][panel], the last one zero-padded
	parts  [][]float32 // gemmBLAS: the parts as given, each [rows, k]
}

// NewMatrix stacks parts, each a row-major [rows, k] matrix, into one Matrix of the summed
// rows, for this CPU's kernel.
func NewMatrix(k int, parts ...[]float32) (*Matrix, error) {
	return newMatrix(linearKernel(), k, parts...)
}

func newMatrix(kern gemmKernel, k int, parts ...[]float32) (*Matrix, error) {
	n, _, err := stackRows(k, parts, false)
	if err != nil {
		return nil, err
	}
	w := &Matrix{n: n, k: k, kernel: kern}
	if kern == gemmBLAS {
		w.parts = slices.Clone(parts)
		return w, nil
	}
	nr := kern.panel()
	w.packed = make([]float32, (w.n+nr-1)/nr*nr*k)
	row := 0
	for _, p := range parts {
		packRows(p, len(p)/k, k, nr, row, w.packed)
		row += len(p) / k
	}
	return w, nil
}

// Rows is n, the output features; Cols is k, the input features.
func (w *Matrix) Rows() int { return w.n }
func (w *Matrix) Cols() int { return w.k }

// Kernel names the code that multiplies by w.
func (w *Matrix) Kernel() string { return w.kernel.String() }

// Linear computes out[m×n] = x[m×k]·Wᵀ + bias (bias of length n, or nil for none), on
// Threads() threads. out must not overlap x.
func (w *Matrix) Linear(out, x []float32, m int, bias []float32) {
	n, k := w.n, w.k
	if m == 0 || n == 0 {
		return
	}
	out, x = out[:m*n], x[:m*k]
	if bias != nil {
		bias = bias[:n]
	}
	if w.kernel == gemmBLAS {
		w.linearBLAS(out, x, m, bias)
		return
	}
	threads := Threads()
	work := getWork(gemmWorkSize(w.kernel, m, k, threads))
	gemmPacked(w.kernel, x, m, k, w.packed, n, out, bias, *work, threads)
	works.Put(work)
}

// sharedARows is the row count up to which a packed product packs x once for all its threads
// (gemm.h's CS_GEMM_SHARED_ROWS; gemm_cgo.go checks that they agree).
const sharedARows = 128

// works recycles the packed kernels' work buffers (x packed, or one A block per thread).
var works sync.Pool

// getWork returns a recycled buffer of n floats. Buffers are made large enough for every
// product of roberta-base (x of 132 × 3072 floats packed, or a few threads' A blocks): one too
// small for the next product would be dropped, and a fresh one costs a page fault per 4 KiB.
func getWork(n int) *[]float32 {
	if b, ok := works.Get().(*[]float32); ok && cap(*b) >= n {
		*b = (*b)[:n]
		return b
	}
	b := make([]float32, n, max(n, 1<<19))
	return &b
}

// linearBLAS is Linear through the build's Sgemm, one call per part, each writing its
// columns of out in place.
func (w *Matrix) linearBLAS(out, x []float32, m int, bias []float32) {
	if bias != nil {
		BroadcastRows(out, bias, m, w.n)
	} else {
		clear(out)
	}
	col := 0
	for _, p := range w.parts {
		rows := len(p) / w.k
		if rows > 0 {
			Sgemm(false, true, m, rows, w.k, 1, x, w.k, p, w.k, 1, out[col:], w.n)
		}
		col += rows
	}
}

// stackRows concatenates parts, each [rows, k], checking that each is whole rows; it returns
// the stacked rows n and, when copy is true, the stacked values (else nil).
func stackRows(k int, parts [][]float32, copy bool) (int, []float32, error) {
	if k <= 0 {
		return 0, nil, fmt.Errorf("matrix: %d columns", k)
	}
	n := 0
	for i, p := range parts {
		if len(p)%k != 0 {
			return 0, nil, fmt.Errorf("matrix part %d: %d values is not a multiple of %d columns", i, len(p), k)
		}
		n += len(p) / k
	}
	if !copy {
		return n, nil, nil
	}
	all := make([]float32, 0, n*k)
	for _, p := range parts {
		all = append(all, p...)
	}
	return n, all, nil
}
