package encoder

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/coldserve/coldserve/internal/kernels"
)

// TestBaseGoldenBF16 is the bfloat16 accuracy test: on the roberta-base geometry, pooled
// vectors (cls, mean, pooler) of every base.json text must keep a cosine similarity of at
// least 0.999 with HF's float32 outputs. It runs the hardware multiply where the CPU has
// one and the exact emulation elsewhere, so the bfloat16 numerics are tested on every
// machine. It also checks that the outputs did move away from float32 (the weights and
// inputs really were rounded).
func TestBaseGoldenBF16(t *testing.T) {
	opts := EncoderOptions{DType: BFloat16}
	if _, err := kernels.HardwareBF16(); err != nil {
		opts.bf16 = kernels.EmulatedBF16
		t.Logf("emulating the bfloat16 multiply: %v", err)
	}
	g := readGolden(t, "base.json")
	e := mustEncoder(t, baseCheckpoint(t), opts)
	if e.DType() != BFloat16 {
		t.Fatalf("DType %s", e.DType())
	}
	worst := map[Pooling]float64{}
	var moved maxDiff
	for _, batch := range batchesBySimilarLength(g.Items, 16, 2048) {
		o := forwardItems(t, e, g.Items, batch)
		for j, i := range batch {
			for _, p := range []Pooling{PoolCLS, PoolMean, PoolPooler} {
				v, err := e.Pool(o, j, p, false)
				if err != nil {
					t.Fatal(err)
				}
				want := g.Items[i].pooled(t, p)
				cos := cosine(v, want)
				if cos < 0.999 || math.IsNaN(cos) {
					t.Errorf("item %d %s: cosine %.6f < 0.999", i, p, cos)
				}
				if c, ok := worst[p]; !ok || cos < c {
					worst[p] = cos
				}
				moved.vec(fmt.Sprintf("item %d %s", i, p), v, want)
			}
		}
	}
	t.Logf("lowest cosine: cls %.6f, mean %.6f, pooler %.6f; max abs diff from float32 %.3g at %s",
		worst[PoolCLS], worst[PoolMean], worst[PoolPooler], moved.v, moved.where)
	if moved.v < 1e-3 {
		t.Errorf("bfloat16 outputs within %.3g of float32: the linear layers did not run in bfloat16", moved.v)
	}
}

func cosine(a []float32, b []float64) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * b[i]
		na += float64(a[i]) * float64(a[i])
		nb += b[i] * b[i]
	}
	return dot / math.Sqrt(na*nb)
}

// TestNewEncoderBF16Refused checks that a BFloat16 encoder is refused, with the reason,
// where the build or CPU has no bfloat16 multiply, and that unknown dtypes are refused.
func TestNewEncoderBF16Refused(t *testing.T) {
	ck := tinyCheckpoint(t)
	if _, err := NewEncoder(ck, EncoderOptions{DType: "float16"}); err == nil || !strings.Contains(err.Error(), "float16") {
		t.Errorf("dtype float16: err %v", err)
	}
	_, hwErr := kernels.HardwareBF16()
	_, err := NewEncoder(ck, EncoderOptions{DType: BFloat16})
	if (err == nil) != (hwErr == nil) {
		t.Fatalf("NewEncoder bf16: %v; hardware: %v", err, hwErr)
	}
	if err != nil && !strings.Contains(err.Error(), hwErr.Error()) {
		t.Errorf("NewEncoder bf16 error %q does not carry the reason %q", err, hwErr)
	}
}

func TestParseDType(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want DType
		ok   bool
	}{
		{"float32", Float32, true}, {"fp32", Float32, true}, {"f32", Float32, true},
		{"bf16", BFloat16, true}, {"bfloat16", BFloat16, true},
		{"", "", false}, {"fp16", "", false}, {"BF16", "", false},
	} {
		got, err := ParseDType(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDType(%q) = %q, %v", tc.in, got, err)
		}
	}
}
