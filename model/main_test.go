package model

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestMain prints, once per run, the path the CPU-dependent tests take: which matrix-multiply
// backend this build has, the CPU's relevant instruction sets, and whether a bfloat16
// multiply is available. Our machines differ (AVX2-only, AVX-512, AMX), so a log that passed
// must say which of them it passed on.
func TestMain(m *testing.M) {
	fmt.Fprintln(os.Stderr, "model tests:", testPath())
	os.Exit(m.Run())
}

func testPath() string {
	var flags []string
	for _, f := range []struct {
		on   bool
		name string
	}{
		{cpu.X86.HasAVX2, "avx2"}, {cpu.X86.HasFMA, "fma"}, {cpu.X86.HasAVX512F, "avx512f"},
		{cpu.X86.HasAVX512BF16, "avx512_bf16"}, {cpu.X86.HasAMXTile, "amx_tile"}, {cpu.X86.HasAMXBF16, "amx_bf16"},
	} {
		if f.on {
			flags = append(flags, f.name)
		}
	}
	if len(flags) == 0 {
		flags = append(flags, "none of avx2/avx512/amx")
	}
	bf16 := "bf16 multiply: hardware"
	if _, err := hardwareBF16(); err != nil {
		bf16 = "bf16 multiply: emulated (" + err.Error() + ")"
	}
	return fmt.Sprintf("BLAS backend %s; CPU flags %s; %s", blasName, strings.Join(flags, " "), bf16)
}

// baseCheckpoint is the roberta-base geometry from weightgen seed 0 (~500 MB), built once
// per test binary and shared read-only by the tests and benchmarks that need it: generating
// 125 M parameters costs seconds, more under the race detector.
func baseCheckpoint(t testing.TB) *Checkpoint {
	t.Helper()
	return baseCheckpointOnce()
}

var baseCheckpointOnce = sync.OnceValue(func() *Checkpoint {
	return Weightgen(RobertaBaseConfig(), 0, WeightgenOptions{})
})
