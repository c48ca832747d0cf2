package encoder

import (
	"testing"
	"time"

	"github.com/coldserve/coldserve/internal/kernels"
)

// TestBaseGolden rebuilds the roberta-base geometry from weightgen seed 0 (~500 MB in
// memory) and compares base.json's 39 texts (one of 512 tokens) within 2e-4: selected
// token rows, cls, mean and pooler. It runs in ~10 s with OpenBLAS and ~40 s in the
// pure-Go build on 2 cores, so it is not skipped under -short.
func TestBaseGolden(t *testing.T) {
	g := readGolden(t, "base.json")
	start := time.Now()
	e := mustEncoder(t, baseCheckpoint(t), EncoderOptions{})
	t.Logf("weightgen (once per package run) + NewEncoder: %v", time.Since(start))
	start = time.Now()
	compareGolden(t, g, e, goldenCompare{maxBatch: 16, maxTokens: 2048, tokenRows: true,
		poolings: []Pooling{PoolCLS, PoolMean, PoolPooler}, tol: 2e-4})
	t.Logf("forward and comparison of %d texts: %v (%s BLAS)", len(g.Items), time.Since(start), kernels.BLAS)
}
