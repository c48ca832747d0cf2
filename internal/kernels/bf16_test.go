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

// TestHardwareBF16 checks the build's bfloat16 multiply where the CPU has one, against the
// emulation; where it has none, that the error says what is needed.
func TestHardwareBF16(t *testing.T) {
	gemm, err := HardwareBF16()
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
	r := rand.New(rand.NewPCG(9, 10))
	bits := func(n int) []uint16 {
		b := make([]uint16, n)
		for i := range b {
			b[i] = ToBF16(float32(r.NormFloat64()))
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
			_ = EmulatedBF16(m, n, k, a, w, want)
			for i := range got {
				// Both sum k exact products in float32, in different orders.
				if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*float64(k) {
					t.Fatalf("c[%d] = %g, emulation %g", i, got[i], want[i])
				}
			}
		})
	}
}
