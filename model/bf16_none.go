//go:build !cgo || noblas || !dnnl

package model

// hardwareBF16 says why this build (OpenBLAS or pure Go) has no bfloat16 multiply: only the
// oneDNN build has one (matmul_dnnl.go).
func hardwareBF16() (gemmBF16, error) {
	return nil, errNoBF16Build
}
