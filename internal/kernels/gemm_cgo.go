//go:build cgo && !noblas && amd64

package kernels

// The packed GEMM of gemm_amd64.c: AVX-512F and AVX2+FMA micro-kernels, chosen at run time.

/*
#cgo CFLAGS: -fopenmp
#cgo LDFLAGS: -fopenmp
#include "gemm.h"
*/
import "C"

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// sharedARows must equal CS_GEMM_SHARED_ROWS: one of these has a negative length otherwise.
var (
	_ [C.CS_GEMM_SHARED_ROWS - sharedARows]struct{}
	_ [sharedARows - C.CS_GEMM_SHARED_ROWS]struct{}
)

// packedKernels lists the packed kernels this CPU can run, fastest first.
func packedKernels() []gemmKernel {
	var ks []gemmKernel
	if cpu.X86.HasAVX512F && cpu.X86.HasFMA {
		ks = append(ks, gemmAVX512)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, gemmAVX2)
	}
	return ks
}

// packRows writes w ([rows, k]) into the packed matrix dst as its rows row0...
func packRows(w []float32, rows, k, nr, row0 int, dst []float32) {
	if rows == 0 || k == 0 {
		return
	}
	C.cs_gemm_pack_rows((*C.float)(unsafe.Pointer(&w[0])), C.long(rows), C.long(k), C.long(nr), C.long(row0),
		(*C.float)(unsafe.Pointer(&dst[0])))
}

// gemmWorkSize is how many floats of work gemmPacked needs.
func gemmWorkSize(kern gemmKernel, m, k, threads int) int {
	return int(C.cs_gemm_work_size(C.int(kern), C.long(m), C.long(k), C.int(threads)))
}

// gemmPacked computes c[m×n] = a[m×k]·Wᵀ + bias on up to threads threads of an OpenMP team,
// W packed by packRows.
func gemmPacked(kern gemmKernel, a []float32, m, k int, packed []float32, n int, c, bias, work []float32, threads int) {
	var pb *C.float
	if bias != nil {
		pb = (*C.float)(unsafe.Pointer(&bias[0]))
	}
	C.cs_gemm(C.int(kern), (*C.float)(unsafe.Pointer(&a[0])), C.long(m), C.long(k),
		(*C.float)(unsafe.Pointer(&packed[0])), C.long(n), (*C.float)(unsafe.Pointer(&c[0])), pb,
		(*C.float)(unsafe.Pointer(&work[0])), C.int(threads))
}
