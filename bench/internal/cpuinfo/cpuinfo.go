// Package cpuinfo names the CPU a benchmark ran on, from /proc/cpuinfo: our machines differ
// (AVX2-only AMD, Intel with AVX-512, AVX512-BF16 and AMX), and a result must say which it is.
// bench/compare and bench/http share it.
package cpuinfo

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Model is /proc/cpuinfo's first "model name", with its family and model numbers ("unknown"
// if there is none).
func Model() string {
	name := field("model name")
	if name == "" {
		return "unknown"
	}
	if fam, model := field("cpu family"), field("model"); fam != "" {
		name += fmt.Sprintf(" (family %s model %s)", fam, model)
	}
	return name
}

// speedFlags are the CPU flags that decide which kernels run.
var speedFlags = []string{"avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16",
	"avx512_fp16", "amx_tile", "amx_bf16", "amx_int8"}

// Flags lists which of the speed-relevant flags /proc/cpuinfo reports, then the ones it lacks.
func Flags() string {
	have := strings.Fields(field("flags"))
	var yes, no []string
	for _, f := range speedFlags {
		if slices.Contains(have, f) {
			yes = append(yes, f)
		} else {
			no = append(no, f)
		}
	}
	return strings.Join(yes, " ") + "; lacks: " + strings.Join(no, " ")
}

// field is the first value of key in /proc/cpuinfo, "" if there is none.
func field(key string) string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024) // the flags line is long
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
