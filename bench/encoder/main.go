// Command encoder times coldserve's encoder on the roberta-base geometry (weightgen seed 0)
// the way ../shared/peers/torch_peer.py times PyTorch: the same shapes, warm-up, and
// contention-aware clean runs (median, min, max), so the two can be compared side by side.
//
//	OMP_NUM_THREADS=2 go run ./bench/encoder -shapes 1x16,8x128,32x128,4x512
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/coldserve/coldserve/bench/internal/cleantime"
	"github.com/coldserve/coldserve/bench/internal/shapes"
	"github.com/coldserve/coldserve/encoder"
	"github.com/coldserve/coldserve/internal/kernels"
	"github.com/coldserve/coldserve/weights"
)

type shapeResult struct {
	Shape     string  `json:"shape"`
	MedianMS  float64 `json:"median_ms"`
	MinMS     float64 `json:"min_ms"`
	MaxMS     float64 `json:"max_ms"`
	TokensSec float64 `json:"tokens_per_s"`
	Runs      int     `json:"runs"`
	Dropped   int     `json:"dropped_contended"` // with -keep-contended: kept, not dropped
}

func main() {
	shapes := flag.String("shapes", "1x16,8x128,32x128,4x512", "comma-separated BATCHxSEQ")
	warmup := flag.Int("warmup", 2, "untimed runs per shape")
	runs := flag.Int("runs", 7, "clean timed runs per shape")
	maxSec := flag.Float64("max-seconds-per-shape", 40, "then stop at >= 5 clean runs")
	threads := flag.Int("threads", 0, "BLAS threads (0: OMP_NUM_THREADS / library default)")
	jsonOut := flag.String("json", "", "also write results as JSON here")
	keep := flag.Bool("keep-contended", false, "keep (and count) runs overlapped by other load instead of retrying them")
	dtype := flag.String("dtype", "float32", "float32, or bf16 (needs AVX512-BF16 or AMX and the dnnl build)")
	flag.Parse()
	opts := cleantime.Options{Warmup: *warmup, Runs: *runs, MaxSeconds: time.Duration(*maxSec * float64(time.Second)),
		QuietWait: cleantime.QuietWait(), KeepContended: *keep}
	dt, err := encoder.ParseDType(*dtype)
	if err != nil {
		slog.Error("bench failed", "err", err)
		os.Exit(2)
	}
	if err := run(*shapes, opts, *threads, dt, *jsonOut); err != nil {
		slog.Error("bench failed", "err", err)
		os.Exit(1)
	}
}

func run(spec string, opts cleantime.Options, threads int, dtype encoder.DType, jsonOut string) error {
	shapeList, err := shapes.Parse(spec)
	if err != nil {
		return err
	}
	kernels.SetThreads(threads)
	cfg := weights.RobertaBaseConfig()
	t0 := time.Now()
	enc, err := encoder.NewEncoder(weights.Generate(cfg, 0, weights.GenerateOptions{}), encoder.EncoderOptions{DType: dtype})
	if err != nil {
		return err
	}
	fmt.Printf("# coldserve encoder, roberta-base geometry (weightgen seed 0), %s, built in %v, OMP_NUM_THREADS=%s\n# %s\n",
		dtype, time.Since(t0).Round(time.Millisecond), os.Getenv("OMP_NUM_THREADS"), kernels.Path())
	var results []shapeResult
	for _, sh := range shapeList {
		s := sh.String()
		ids := encoder.SyntheticIDs(cfg, sh.Batch, sh.Seq)
		ctx := context.Background()
		r, err := cleantime.Bench(func() error { _, err := enc.Forward(ctx, ids); return err }, opts)
		if err != nil {
			// A box too busy for a single clean run: say so and go on with the next shape.
			fmt.Printf("%s: %v\n", s, err)
			results = append(results, shapeResult{Shape: s, Dropped: r.Dropped})
			continue
		}
		tps := float64(sh.Tokens()) / r.Median.Seconds()
		fmt.Printf("%s: %v  %.0f tokens/s\n", s, r, tps)
		results = append(results, shapeResult{Shape: s, MedianMS: cleantime.MS(r.Median), MinMS: cleantime.MS(r.Min), MaxMS: cleantime.MS(r.Max),
			TokensSec: tps, Runs: r.Runs, Dropped: r.Dropped})
	}
	if jsonOut != "" {
		raw, err := json.MarshalIndent(results, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(jsonOut, raw, 0o644)
	}
	return nil
}
