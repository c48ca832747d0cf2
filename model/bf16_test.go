package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestToBF16 pins round-to-nearest-even at the bit level: the rule PyTorch's
// float→bfloat16 conversion and oneDNN's follow.
func TestToBF16(t *testing.T) {
	for _, tc := range []struct {
		in   uint32
		want uint16
		why  string
	}{
		{0x3f800000, 0x3f80, "1.0 is exact"},
		{0x3f807fff, 0x3f80, "below half rounds down"},
		{0x3f808000, 0x3f80, "tie rounds to even (down)"},
		{0x3f818000, 0x3f82, "tie rounds to even (up)"},
		{0x3f808001, 0x3f81, "above half rounds up"},
		{0xbf808001, 0xbf81, "negative, above half"},
		{0x7f7fffff, 0x7f80, "largest float32 overflows to +Inf"},
		{0x7f800000, 0x7f80, "+Inf"},
		{0x80000000, 0x8000, "-0"},
		{0x00000001, 0x0000, "smallest denormal rounds to 0"},
		{0x7f800001, 0x7fc0, "signalling NaN becomes quiet"},
		{0xffc00001, 0xffc0, "quiet NaN keeps its sign"},
	} {
		if got := toBF16(math.Float32frombits(tc.in)); got != tc.want {
			t.Errorf("%s: toBF16(%#08x) = %#04x, want %#04x", tc.why, tc.in, got, tc.want)
		}
	}
}

// TestToBF16sMatchesScalar checks the build's bulk conversion (AVX2 C in the cgo build)
// against toBF16, bit for bit, across vector tails and special values.
func TestToBF16sMatchesScalar(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), math.Float32frombits(0x7f800001), math.MaxFloat32, math.SmallestNonzeroFloat32,
		math.Float32frombits(0x3f808000), math.Float32frombits(0x3f818000)}
	for _, n := range []int{1, 15, 16, 17, 33, 1000} {
		src := make([]float32, n)
		for i := range src {
			if i%5 == 0 {
				src[i] = specials[(i/5)%len(specials)]
			} else {
				src[i] = math.Float32frombits(r.Uint32())
			}
		}
		got := make([]uint16, n)
		toBF16s(got, src)
		for i, v := range src {
			if want := toBF16(v); got[i] != want {
				t.Fatalf("n=%d: [%d] %#08x → %#04x, want %#04x", n, i, math.Float32bits(v), got[i], want)
			}
		}
	}
}

// emulatedBF16 is the bfloat16 multiply computed exactly in float32: each product of two
// bfloat16 values fits a float32 exactly, so widening both operands and running sgemm gives
// what AMX and AVX512-BF16 compute, up to the order of the float32 sums.
func emulatedBF16(m, n, k int, a, w []uint16, c []float32) error {
	widen := func(b []uint16) []float32 {
		f := make([]float32, len(b))
		for i, v := range b {
			f[i] = fromBF16(v)
		}
		return f
	}
	sgemm(false, true, m, n, k, 1, widen(a[:m*k]), k, widen(w[:n*k]), k, 1, c, n)
	return nil
}

// TestHardwareBF16 checks the build's bfloat16 multiply where the CPU has one, against the
// emulation; where it has none, that the error says what is needed.
func TestHardwareBF16(t *testing.T) {
	gemm, err := hardwareBF16()
	if err != nil {
		cpuHas := cpu.X86.HasAVX512BF16 || (cpu.X86.HasAMXBF16 && cpu.X86.HasAMXTile)
		switch {
		case cpuHas && err == errNoBF16Build:
			// The CPU could, this build cannot: make test also runs the oneDNN build, where the
			// hardware multiply is checked.
			t.Skipf("the CPU has bfloat16 instructions, but this %s build has no bfloat16 multiply: %v", blasName, err)
		case cpuHas:
			t.Fatalf("the CPU has bfloat16 instructions but the %s build refused them: %v", blasName, err)
		}
		if err != errNoBF16Build && !strings.Contains(err.Error(), "AVX512-BF16 or AMX") {
			t.Fatalf("error does not say what bfloat16 needs: %v", err)
		}
		if BFloat16Support() == nil {
			t.Fatal("BFloat16Support is nil while hardwareBF16 fails")
		}
		t.Logf("no bfloat16 multiply here (as expected): %v", err)
		return
	}
	r := rand.New(rand.NewPCG(9, 10))
	bits := func(n int) []uint16 {
		b := make([]uint16, n)
		for i := range b {
			b[i] = toBF16(float32(r.NormFloat64()))
		}
		return b
	}
	for _, s := range [][3]int{{1, 768, 768}, {37, 3072, 768}, {200, 768, 3072}} {
		m, n, k := s[0], s[1], s[2]
		t.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(t *testing.T) {
			a, w := bits(m*k), bits(n*k)
			got, want := make([]float32, m*n), make([]float32, m*n)
			for i := range got {
				got[i] = float32(i % 3)
				want[i] = got[i]
			}
			if err := gemm(m, n, k, a, w, got); err != nil {
				t.Fatal(err)
			}
			_ = emulatedBF16(m, n, k, a, w, want)
			for i := range got {
				// Both sum k exact products in float32, in different orders.
				if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*float64(k) {
					t.Fatalf("c[%d] = %g, emulation %g", i, got[i], want[i])
				}
			}
		})
	}
}

// TestBaseGoldenBF16 is the bfloat16 accuracy test: on the roberta-base geometry, pooled
// vectors (cls, mean, pooler) of every base.json text must keep a cosine similarity of at
// least 0.999 with HF's float32 outputs. It runs the hardware multiply where the CPU has
// one and the exact emulation elsewhere, so the bfloat16 numerics are tested on every
// machine. It also checks that the outputs did move away from float32 (the weights and
// inputs really were rounded).
func TestBaseGoldenBF16(t *testing.T) {
	opts := EncoderOptions{DType: BFloat16}
	if _, err := hardwareBF16(); err != nil {
		opts.bf16 = emulatedBF16
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
	_, hwErr := hardwareBF16()
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
