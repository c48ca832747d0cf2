//go:build !cgo || noblas || !dnnl

package kernels

// HardwareBF16 says why this build (OpenBLAS or pure Go) has no bfloat16 multiply: only the
// oneDNN build has one (matmul_onednn.go).
func HardwareBF16() (BF16, error) {
	return nil, ErrNoBF16Build
}
