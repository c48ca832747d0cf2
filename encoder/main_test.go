package encoder

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/coldserve/coldserve/internal/kernels"
	"github.com/coldserve/coldserve/weights"
)

// TestMain prints, once per run, the path the CPU-dependent tests take: which matrix-multiply
// backend this build has, the CPU's relevant instruction sets, and whether a bfloat16
// multiply is available. Our machines differ (AVX2-only, AVX-512, AMX), so a log that passed
// must say which of them it passed on.
func TestMain(m *testing.M) {
	fmt.Fprintln(os.Stderr, "encoder tests:", kernels.Path())
	os.Exit(m.Run())
}

// baseCheckpoint is the roberta-base geometry from weightgen seed 0 (~500 MB), built once
// per test binary and shared read-only by the tests and benchmarks that need it: generating
// 125 M parameters costs seconds, more under the race detector.
func baseCheckpoint(t testing.TB) *weights.Checkpoint {
	t.Helper()
	return baseCheckpointOnce()
}

var baseCheckpointOnce = sync.OnceValue(func() *weights.Checkpoint {
	return weights.Generate(weights.RobertaBaseConfig(), 0, weights.GenerateOptions{})
})
