package kernels

import "fmt"

// EmulatedBF16 is the bfloat16 backend computed exactly in float32: each product of two
// bfloat16 values fits a float32 exactly, so widening both operands and running Sgemm gives
// what AMX and AVX512-BF16 compute, up to the order of the float32 sums. Tests use it as the
// reference, and to run the bfloat16 numerics on CPUs without the instructions.
var EmulatedBF16 BF16 = emulatedBF16{}

type emulatedBF16 struct{}

// plainBF16 is W rounded to bfloat16, row-major [n, k].
type plainBF16 struct {
	n, k int
	bits []uint16
}

func (w *plainBF16) Rows() int { return w.n }
func (w *plainBF16) Cols() int { return w.k }

func (emulatedBF16) Name() string { return "emulated in float32" }

func (emulatedBF16) Weights(k int, parts ...[]float32) (BF16Weights, error) {
	n, all, err := stackRows(k, parts, true)
	if err != nil {
		return nil, err
	}
	w := &plainBF16{n: n, k: k, bits: make([]uint16, len(all))}
	ToBF16s(w.bits, all)
	return w, nil
}

func (emulatedBF16) Product(m, n, k int, gelu bool) (BF16Product, error) {
	return &emulatedProduct{m: m, n: n, k: k, gelu: gelu}, nil
}

type emulatedProduct struct {
	m, n, k int
	gelu    bool
}

func (p *emulatedProduct) Close() {}

func (p *emulatedProduct) Run(out []float32, xb []uint16, w BF16Weights, bias []float32) error {
	pw, ok := w.(*plainBF16)
	if !ok || pw.n != p.n || pw.k != p.k {
		return fmt.Errorf("emulated bfloat16 product %d×%d×%d: weights %T do not fit", p.m, p.n, p.k, w)
	}
	if len(out) < p.m*p.n || len(bias) < p.n || len(xb) < p.m*p.k {
		return fmt.Errorf("emulated bfloat16 product %d×%d×%d: %d inputs, %d outputs, %d biases", p.m, p.n, p.k, len(xb), len(out), len(bias))
	}
	BroadcastRows(out, bias, p.m, p.n)
	emulatedGemm(p.m, p.n, p.k, xb, pw.bits, out)
	if p.gelu {
		GELU(out[:p.m*p.n])
	}
	return nil
}

// emulatedGemm computes c[m×n] += a[m×k]·wᵀ on bfloat16 bits, exactly in float32.
func emulatedGemm(m, n, k int, a, w []uint16, c []float32) {
	widen := func(b []uint16) []float32 {
		f := make([]float32, len(b))
		for i, v := range b {
			f[i] = FromBF16(v)
		}
		return f
	}
	Sgemm(false, true, m, n, k, 1, widen(a[:m*k]), k, widen(w[:n*k]), k, 1, c, n)
}
