//go:build cgo && !noblas && amd64

package kernels

// The packed GEMM of gemm_amd64.c: AVX-512F and AVX2+FMA micro-kernels, chosen at run time.

/*
#include "gemm.h"
*/
import "C"

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// gemmABuf is how many floats of A-packing buffer each thread of cs_gemm_packed needs.
const gemmABuf = C.CS_GEMM_ABUF

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

// gemmPanels computes panels [j0, j1) of c[m×n] = a[m×k]·Wᵀ + bias on the calling thread.
func gemmPanels(kern gemmKernel, a []float32, m, k int, packed []float32, n, j0, j1 int, c, bias, abuf []float32) {
	var pb *C.float
	if bias != nil {
		pb = (*C.float)(unsafe.Pointer(&bias[0]))
	}
	C.cs_gemm_packed(C.int(kern), (*C.float)(unsafe.Pointer(&a[0])), C.long(k), C.long(m), C.long(k),
		(*C.float)(unsafe.Pointer(&packed[0])), C.long(n), C.long(j0), C.long(j1),
		(*C.float)(unsafe.Pointer(&c[0])), C.long(n), pb, (*C.float)(unsafe.Pointer(&abuf[0])))
}

// packedASize is how many floats packA writes for an m×k A.
func packedASize(kern gemmKernel, m, k int) int {
	return int(C.cs_gemm_packed_a_size(C.int(kern), C.long(m), C.long(k)))
}

// packA packs all of a (m×k) for kern into ap (packedASize floats).
func packA(kern gemmKernel, a []float32, m, k int, ap []float32) {
	C.cs_gemm_pack_a(C.int(kern), (*C.float)(unsafe.Pointer(&a[0])), C.long(k), C.long(m), C.long(k),
		(*C.float)(unsafe.Pointer(&ap[0])))
}

// gemmPrepacked computes panels [j0, j1) of c[m×n] = A·Wᵀ + bias from A packed by packA.
func gemmPrepacked(kern gemmKernel, ap []float32, m, k int, packed []float32, n, j0, j1 int, c, bias []float32) {
	var pb *C.float
	if bias != nil {
		pb = (*C.float)(unsafe.Pointer(&bias[0]))
	}
	C.cs_gemm_prepacked(C.int(kern), (*C.float)(unsafe.Pointer(&ap[0])), C.long(m), C.long(k),
		(*C.float)(unsafe.Pointer(&packed[0])), C.long(n), C.long(j0), C.long(j1),
		(*C.float)(unsafe.Pointer(&c[0])), C.long(n), pb)
}
