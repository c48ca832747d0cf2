package kernels

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
		if got := ToBF16(math.Float32frombits(tc.in)); got != tc.want {
			t.Errorf("%s: ToBF16(%#08x) = %#04x, want %#04x", tc.why, tc.in, got, tc.want)
		}
	}
}

// TestToBF16sMatchesScalar checks the build's bulk conversion (AVX2 C in the cgo build)
// against ToBF16, bit for bit, across vector tails and special values.
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
		ToBF16s(got, src)
		for i, v := range src {
			if want := ToBF16(v); got[i] != want {
				t.Fatalf("n=%d: [%d] %#08x → %#04x, want %#04x", n, i, math.Float32bits(v), got[i], want)
			}
		}
	}
}

// TestHardwareBF16 checks the build's bfloat16 backend where the CPU has one, against the
// emulation, for row counts around oneDNN's blocks, stacked parts, with and without GELU;
// where it has none, that the error says what is needed.
func TestHardwareBF16(t *testing.T) {
	hw, err := HardwareBF16()
	if err != nil {
		cpuHas := cpu.X86.HasAVX512BF16 || (cpu.X86.HasAMXBF16 && cpu.X86.HasAMXTile)
		switch {
		case cpuHas && err == ErrNoBF16Build:
			// The CPU could, this build cannot: make test also runs the oneDNN build, where the
			// hardware multiply is checked.
			t.Skipf("the CPU has bfloat16 instructions, but this %s build has no bfloat16 multiply: %v", BLAS, err)
		case cpuHas:
			t.Fatalf("the CPU has bfloat16 instructions but the %s build refused them: %v", BLAS, err)
		}
		if err != ErrNoBF16Build && !strings.Contains(err.Error(), "AVX512-BF16 or AMX") {
			t.Fatalf("error does not say what bfloat16 needs: %v", err)
		}
		t.Logf("no bfloat16 multiply here (as expected): %v", err)
		return
	}
	t.Logf("bfloat16 multiply: %s", hw.Name())
	testBF16Backend(t, hw)
}

// TestEmulatedBF16 checks the emulation against a float64 reference of the rounded operands.
func TestEmulatedBF16(t *testing.T) {
	testBF16Backend(t, nil)
}

// testBF16Backend runs b's products against the emulation (b nil: the emulation against a
// float64 product of the rounded operands).
func testBF16Backend(t *testing.T, b BF16) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, tc := range []struct {
		m, k  int
		parts []int
		gelu  bool
	}{
		{1, 768, []int{768}, false},
		{37, 768, []int{3072}, true},
		{200, 3072, []int{768}, false},
		{13, 32, []int{32, 32, 32}, false},
	} {
		t.Run(fmt.Sprintf("m=%d,k=%d,parts=%v,gelu=%v", tc.m, tc.k, tc.parts, tc.gelu), func(t *testing.T) {
			parts := make([][]float32, len(tc.parts))
			n := 0
			for i, rows := range tc.parts {
				parts[i] = normalFloats(r, rows*tc.k)
				n += rows
			}
			x := normalFloats(r, tc.m*tc.k)
			xb := make([]uint16, len(x))
			ToBF16s(xb, x)
			bias := normalFloats(r, n)
			want := bf16Reference(t, b == nil, tc.m, n, tc.k, xb, parts, bias, tc.gelu)
			if b == nil {
				b = EmulatedBF16
			}
			w, err := b.Weights(tc.k, parts...)
			if err != nil {
				t.Fatal(err)
			}
			if w.Rows() != n || w.Cols() != tc.k {
				t.Fatalf("weights %d×%d, want %d×%d", w.Rows(), w.Cols(), n, tc.k)
			}
			p, err := b.Product(tc.m, n, tc.k, tc.gelu)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			got := normalFloats(r, tc.m*n) // garbage: Run must overwrite it
			if err := p.Run(got, xb, w, bias); err != nil {
				t.Fatal(err)
			}
			for i := range got {
				// Exact products summed in float32 in different orders; oneDNN's GELU is its own
				// erf approximation.
				if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*float64(tc.k)*math.Max(1, math.Abs(float64(want[i]))) {
					t.Fatalf("out[%d] = %g, want %g", i, got[i], want[i])
				}
			}
		})
	}
}

// bf16Reference is out = xb·round(W)ᵀ + bias (then GELU): through the emulation, or when
// exact, in float64 from the rounded operands.
func bf16Reference(t *testing.T, exact bool, m, n, k int, xb []uint16, parts [][]float32, bias []float32, gelu bool) []float32 {
	t.Helper()
	out := make([]float32, m*n)
	if !exact {
		w, err := EmulatedBF16.Weights(k, parts...)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := EmulatedBF16.Product(m, n, k, gelu)
		if err := p.Run(out, xb, w, bias); err != nil {
			t.Fatal(err)
		}
		return out
	}
	var wb []uint16
	for _, p := range parts {
		for _, v := range p {
			wb = append(wb, ToBF16(v))
		}
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := float64(bias[j])
			for p := 0; p < k; p++ {
				s += float64(FromBF16(xb[i*k+p])) * float64(FromBF16(wb[j*k+p]))
			}
			out[i*n+j] = float32(s)
		}
	}
	if gelu {
		geluInPlace(out)
	}
	return out
}

func normalFloats(r *rand.Rand, n int) []float32 {
	f := make([]float32, n)
	for i := range f {
		f[i] = float32(r.NormFloat64())
	}
	return f
}
