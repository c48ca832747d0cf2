package main

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/coldserve/coldserve/encoder"
)

// checkDType on injected CPUs and builds: float32 always runs; bf16 fails naming the missing
// extensions, or the build's reason on a capable CPU, and runs where both allow it.
func TestCheckDType(t *testing.T) {
	none := cpuFeatures{}
	avx := cpuFeatures{AVX512BF16: true}
	amx := cpuFeatures{AMXTile: true, AMXBF16: true}
	supported := func() error { return nil }
	noOneDNN := func() error { return errors.New("bfloat16 needs the oneDNN build") }
	tests := []struct {
		name    string
		dtype   string
		cpu     cpuFeatures
		support func() error
		wantErr []string // substrings of the error; nil: no error
	}{
		{"float32 on any CPU", "float32", none, noOneDNN, nil},
		{"float32 with AMX", "float32", amx, supported, nil},
		{"bf16 without extensions (Zen 3)", "bf16", none, supported,
			[]string{"no bfloat16 matrix instructions", "missing AVX512-BF16, AMX-BF16, AMX-TILE", "--dtype float32"}},
		{"bf16 with AMX-BF16 but no tiles", "bf16", cpuFeatures{AMXBF16: true}, supported,
			[]string{"missing AVX512-BF16, AMX-TILE"}},
		{"bf16 with AMX tiles but no AMX-BF16", "bf16", cpuFeatures{AMXTile: true}, supported,
			[]string{"missing AVX512-BF16, AMX-BF16"}},
		{"bf16 with AVX512-BF16", "bf16", avx, supported, nil},
		{"bf16 with AMX", "bf16", amx, supported, nil},
		{"bf16 with AMX, build without oneDNN", "bf16", amx, noOneDNN,
			[]string{"the CPU has AMX-BF16, AMX-TILE", "needs the oneDNN build", "--dtype float32"}},
		{"unknown dtype", "fp16", amx, supported, []string{`--dtype "fp16"`, "want float32 or bf16"}},
		{"empty dtype", "", none, supported, []string{"want float32 or bf16"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkDType(tt.dtype, tt.cpu, tt.support)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

// The serve command line: --dtype, --cache-bytes and --batch-wait, with their environment variables.
func TestParseServeDTypeAndCache(t *testing.T) {
	c, err := parseServe([]string{"--model", "demo"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.dtype != "float32" || c.cacheBytes.byteSize != 64<<20 || cacheOption(int64(c.cacheBytes.byteSize)) != 64<<20 {
		t.Errorf("defaults: dtype %q cache %d", c.dtype, c.cacheBytes.byteSize)
	}
	c, err = parseServe([]string{"--model", "demo", "--cache-bytes", "0"}, env(map[string]string{"COLDSERVE_CACHE_BYTES": "1MB"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.cacheBytes.byteSize != 0 || cacheOption(0) != -1 {
		t.Errorf("--cache-bytes 0: %d (server option %d), want disabled", c.cacheBytes.byteSize, cacheOption(0))
	}
	c, err = parseServe([]string{"--model", "demo"}, env(map[string]string{"COLDSERVE_CACHE_BYTES": "1MB", "COLDSERVE_DTYPE": "float32"}), io.Discard)
	if err != nil || c.cacheBytes.byteSize != 1<<20 {
		t.Errorf("COLDSERVE_CACHE_BYTES=1MB: %d, %v", c.cacheBytes.byteSize, err)
	}
	c, err = parseServe([]string{"--model", "demo"}, env(map[string]string{"COLDSERVE_BATCH_WAIT": "2ms"}), io.Discard)
	if err != nil || c.batchWait != 2*time.Millisecond {
		t.Errorf("COLDSERVE_BATCH_WAIT=2ms: %v, %v", c.batchWait, err)
	}
	for _, bad := range []map[string]string{{"COLDSERVE_BATCH_WAIT": "-1ms"}, {"COLDSERVE_DTYPE": "int8"}, {"COLDSERVE_CACHE_BYTES": "-5"}} {
		if _, err := parseServe([]string{"--model", "demo"}, env(bad), io.Discard); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	// bf16 runs only where the CPU and the build both support it; elsewhere the error names why.
	_, err = parseServe([]string{"--model", "demo", "--dtype", "bf16"}, env(nil), io.Discard)
	hostOK := hostCPU().hasBF16() && encoder.BFloat16Support() == nil
	if (err == nil) != hostOK || (err != nil && !strings.Contains(err.Error(), "--dtype bf16")) {
		t.Errorf("--dtype bf16 on this host (bf16 supported: %v): %v", hostOK, err)
	}
	t.Logf("--dtype bf16 here: %v", err)
}
