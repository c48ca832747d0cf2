package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/coldserve/coldserve/bench/internal/cleantime"
	"github.com/coldserve/coldserve/encoder"
	"github.com/coldserve/coldserve/internal/kernels"
	"github.com/coldserve/coldserve/weights"
)

// The machine's own limit: one large GEMM of the encoder's FFN shape at 32×128 tokens
// (M 4096, K 768, N 3072), timed in the same run as the engines, so every engine's tokens/s
// can be read as a share of what the matrix multiplies alone would allow.
const limitM, limitK, limitN = 4096, 768, 3072

// gemmLimit is one timed GEMM: best and median of runs, in GFLOP/s.
type gemmLimit struct {
	Name   string  `json:"name"`
	DType  string  `json:"dtype"` // "float32" or "bf16": which engines it bounds
	Best   float64 `json:"best_gflops"`
	Median float64 `json:"median_gflops"`
	Runs   int     `json:"runs"`
	Err    string  `json:"error,omitempty"`
}

// measureLimits times the float32 GEMM through the build's Sgemm (oneDNN's dnnl_sgemm in the
// dnnl build), the same product through our linear kernel (for comparison, not as the bound)
// and, where the CPU has a bfloat16 multiply, the bfloat16 GEMM through it (oneDNN's matmul
// primitive), each with the engines' contention-aware timing (o: warm-up, clean runs).
func measureLimits(o cleantime.Options) []gemmLimit {
	r := rand.New(rand.NewPCG(1, 1))
	fill := func(n int) []float32 {
		f := make([]float32, n)
		for i := range f {
			f[i] = float32(r.NormFloat64())
		}
		return f
	}
	a, w, c := fill(limitM*limitK), fill(limitN*limitK), make([]float32, limitM*limitN)
	out := []gemmLimit{timeGEMM("sgemm "+kernels.BLAS, "float32", o, func() error {
		kernels.Sgemm(false, true, limitM, limitN, limitK, 1, a, limitK, w, limitK, 0, c, limitN)
		return nil
	})}
	if m, err := kernels.NewMatrix(limitK, w); err == nil {
		lim := timeGEMM("ours: "+m.Kernel(), "float32", o, func() error { m.Linear(c, a, limitM, nil); return nil })
		lim.DType = "" // reported, but not the bound
		out = append(out, lim)
	}
	bf16, err := kernels.HardwareBF16()
	if err != nil {
		return append(out, gemmLimit{Name: "bf16 multiply", DType: "bf16", Err: err.Error()})
	}
	name := "bf16 " + bf16.Name()
	wb, err := bf16.Weights(limitK, w)
	if err != nil {
		return append(out, gemmLimit{Name: name, DType: "bf16", Err: err.Error()})
	}
	p, err := bf16.Product(limitM, limitN, limitK, false)
	if err != nil {
		return append(out, gemmLimit{Name: name, DType: "bf16", Err: err.Error()})
	}
	defer p.Close()
	ab, bias := make([]uint16, len(a)), make([]float32, limitN)
	kernels.ToBF16s(ab, a)
	return append(out, timeGEMM(name, "bf16", o, func() error { return p.Run(c, ab, wb, bias) }))
}

func timeGEMM(name, dtype string, o cleantime.Options, f func() error) gemmLimit {
	lim := gemmLimit{Name: name, DType: dtype}
	r, err := cleantime.Bench(f, o)
	if err != nil {
		lim.Err = err.Error()
		return lim
	}
	flop := 2 * float64(limitM) * limitN * limitK
	lim.Best, lim.Median, lim.Runs = flop/r.Min.Seconds()*1e-9, flop/r.Median.Seconds()*1e-9, r.Runs
	return lim
}

// flopsPerToken is the encoder's multiply-adds per token at sequence length seq, counted as
// ../shared/peers/README.md counts them (174.6 MFLOP at seq 128 for roberta-base): per layer
// the four linear layers, 2·(4h² + 2hf), and attention's two products, 4·seq·h.
func flopsPerToken(cfg weights.Config, seq int) float64 {
	h, f := float64(cfg.HiddenSize), float64(cfg.IntermediateSize)
	return float64(cfg.NumHiddenLayers) * (2*(4*h*h+2*h*f) + 4*float64(seq)*h)
}

// boundFor is the limit that bounds an engine computing in dtype: the best rate of the first
// limit of that dtype, or 0 when none was measured.
func boundFor(limits []gemmLimit, dtype string) float64 {
	i := slices.IndexFunc(limits, func(l gemmLimit) bool { return l.DType == dtype && l.Err == "" && l.Best > 0 })
	if i < 0 {
		return 0
	}
	return limits[i].Best
}

// engineDType is the precision an engine computes in: ONNX Runtime always float32, ours and
// PyTorch the run's -dtype.
func engineDType(name string, o options) string {
	if name == "ORT" || o.dtype == encoder.Float32 {
		return "float32"
	}
	return "bf16"
}

// describeLimit is a limit's table cell.
func describeLimit(l gemmLimit) string {
	if l.Err != "" {
		return "not measured: " + l.Err
	}
	return fmt.Sprintf("%.0f GFLOP/s best, %.0f median of %d", l.Best, l.Median, l.Runs)
}

// writeLimits renders the measured GEMMs and, per shape, the GEMM-bound tokens/s (the bound's
// GFLOP/s over flopsPerToken) and each engine's median tokens/s as a share of the bound of
// its precision.
func writeLimits(b *strings.Builder, limits []gemmLimit, rows []shapeSummary, shapes []shape, engines []*engineReport,
	o options, cfg weights.Config) {
	fmt.Fprintf(b, "\nMachine limit, timed in this run: one %d×%d×%d GEMM (M×K×N), %d threads:\n\n", limitM, limitK, limitN, o.threads)
	for _, l := range limits {
		role := "bounds the " + l.DType + " engines"
		if l.DType == "" {
			role = "for comparison"
		}
		fmt.Fprintf(b, "- %s: %s (%s)\n", l.Name, describeLimit(l), role)
	}
	dtypes := []string{"float32"}
	if boundFor(limits, "bf16") > 0 {
		dtypes = append(dtypes, "bf16")
	}
	b.WriteString("\nShare of the GEMM-bound tokens/s (engine's median tokens/s ÷ bound GFLOP/s × FLOPs per token; " +
		"an engine is bounded by the GEMM of its own precision):\n\n")
	hdr := []string{"shape", "MFLOP/token"}
	for _, d := range dtypes {
		hdr = append(hdr, "GEMM-bound tokens/s ("+d+")")
	}
	for _, e := range engines {
		hdr = append(hdr, e.Name+" share")
	}
	writeRow(b, hdr)
	writeRow(b, slices.Repeat([]string{"---"}, len(hdr)))
	for i, r := range rows {
		fpt := flopsPerToken(cfg, shapes[i].Seq)
		row := []string{shapes[i].Label(), fmt.Sprintf("%.1f", fpt*1e-6)}
		for _, d := range dtypes {
			row = append(row, fmt.Sprintf("%.0f", boundFor(limits, d)*1e9/fpt))
		}
		for _, e := range engines {
			bound := boundFor(limits, engineDType(e.Name, o)) * 1e9 / fpt
			s := r.TokensSec[e.Name]
			switch {
			case e.Absent != "":
				row = append(row, "absent")
			case bound == 0 || s.N == 0:
				row = append(row, "—")
			default:
				row = append(row, fmt.Sprintf("%.2f (%s)", s.Median/bound, engineDType(e.Name, o)))
			}
		}
		writeRow(b, row)
	}
}
