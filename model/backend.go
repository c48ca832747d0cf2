package model

// BLASBackend names the matrix-multiply backend this build uses: "onednn" (cgo, dnnl tag),
// "openblas" (cgo) or "gonum" (pure Go). Benchmarks print it so a table says what it measured.
func BLASBackend() string { return blasName }
