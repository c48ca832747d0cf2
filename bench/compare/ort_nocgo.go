//go:build !cgo

package main

import "errors"

// ortBuilt says this build cannot load ONNX Runtime: onnxruntime_go needs cgo.
const ortBuilt = false

func newORT(lib, path string, threads, padID int) (inproc, string, error) {
	return nil, "", errors.New("this build has no cgo (CGO_ENABLED=0), and onnxruntime_go needs it")
}
