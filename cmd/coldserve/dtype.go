package main

import (
	"fmt"
	"strings"

	"golang.org/x/sys/cpu"

	"github.com/coldserve/coldserve/encoder"
)

// Compute dtypes of --dtype: encoder.DType's names.
const (
	dtypeFloat32 = string(encoder.Float32)
	dtypeBF16    = string(encoder.BFloat16)
)

// cpuFeatures are the instruction-set extensions a bfloat16 encoder could use. They are a
// value (not read inside checkDType) so that the decision is testable on any machine.
type cpuFeatures struct {
	AVX512BF16 bool // AVX512_BF16: VDPBF16PS dot products (Cooper Lake, Sapphire Rapids, Zen 4)
	AMXTile    bool // AMX-TILE: the tile registers AMX-BF16 computes in
	AMXBF16    bool // AMX-BF16: TDPBF16PS tile matrix multiply (Sapphire Rapids and later)
}

// hostCPU reads the features of the machine we run on. golang.org/x/sys/cpu reads AVX512_BF16
// from CPUID leaf 7 subleaf 1 EAX bit 5 (only when the OS saves AVX-512 state) and AMX from
// leaf 7 EDX bits 22 (AMX-BF16) and 24 (AMX-TILE).
func hostCPU() cpuFeatures {
	return cpuFeatures{AVX512BF16: cpu.X86.HasAVX512BF16, AMXTile: cpu.X86.HasAMXTile, AMXBF16: cpu.X86.HasAMXBF16}
}

// hasBF16 says whether the CPU has a bfloat16 matrix unit: AVX512-BF16, or AMX (tiles with BF16).
func (f cpuFeatures) hasBF16() bool { return f.AVX512BF16 || (f.AMXTile && f.AMXBF16) }

// missingBF16 names the extensions a bf16 encoder would need that f lacks.
func (f cpuFeatures) missingBF16() []string {
	var miss []string
	if !f.AVX512BF16 {
		miss = append(miss, "AVX512-BF16")
	}
	if !f.AMXBF16 {
		miss = append(miss, "AMX-BF16")
	}
	if !f.AMXTile {
		miss = append(miss, "AMX-TILE")
	}
	return miss
}

// checkDType validates --dtype against the CPU and the build. float32 always runs. bf16 needs
// AVX512-BF16 or AMX-BF16: without them start-up fails naming what is missing, rather than
// emulating bfloat16 in float32 (slower than float32, and not what the operator asked for).
// With them, support (encoder.BFloat16Support) must agree: it fails in a build without oneDNN
// or where oneDNN has no bfloat16 matmul for this CPU.
func checkDType(dtype string, f cpuFeatures, support func() error) error {
	switch dtype {
	case dtypeFloat32:
		return nil
	case dtypeBF16:
		if !f.hasBF16() {
			return fmt.Errorf("--dtype bf16: this CPU has no bfloat16 matrix instructions (missing %s); "+
				"bf16 needs AVX512-BF16 (Intel Cooper Lake or later, AMD Zen 4 or later) or AMX-BF16 (Intel Sapphire Rapids or later); "+
				"use --dtype float32", strings.Join(f.missingBF16(), ", "))
		}
		if err := support(); err != nil {
			return fmt.Errorf("--dtype bf16: the CPU has %s, but: %w; use --dtype float32", f.present(), err)
		}
		return nil
	default:
		return fmt.Errorf("--dtype %q: want float32 or bf16", dtype)
	}
}

// present names the bf16-related extensions f has.
func (f cpuFeatures) present() string {
	var have []string
	for _, x := range []struct {
		on   bool
		name string
	}{{f.AVX512BF16, "AVX512-BF16"}, {f.AMXBF16, "AMX-BF16"}, {f.AMXTile, "AMX-TILE"}} {
		if x.on {
			have = append(have, x.name)
		}
	}
	return strings.Join(have, ", ")
}
