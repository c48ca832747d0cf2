// Command compare times coldserve's encoder against its speed peers, ONNX Runtime and PyTorch,
// on the roberta-base geometry (weightgen seed 0), the same shapes, in one run, alternating,
// and prints a markdown table of tokens/s and same-pass ratios (`make bench` runs it).
//
// It writes the weightgen checkpoint as an HF-layout directory (cached under -cache) and
// exports it to ONNX through ../shared/peers/torch_peer.py (cached too). Ours runs in process,
// as bench/encoder runs it; ONNX Runtime runs in process through onnxruntime_go over the
// npm package's libonnxruntime.so.1; PyTorch runs torch_peer.py bench once per pass. Every
// engine is timed with the same contention-aware clean runs (bench/internal/cleantime and
// the peers' cleantime.py). Before timing, ours and ONNX Runtime run one batch of unequal
// lengths and their last_hidden_state must agree within -tol. A peer that cannot run is
// reported as absent, with the reason, and the rest still runs.
//
//	OMP_NUM_THREADS=2 go run -tags dnnl ./bench/compare -passes 3 -shapes 1x16,8x128
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coldserve/coldserve/bench/internal/cleantime"
	"github.com/coldserve/coldserve/bench/internal/cpuinfo"
	"github.com/coldserve/coldserve/bench/internal/shapes"
	"github.com/coldserve/coldserve/encoder"
	"github.com/coldserve/coldserve/internal/kernels"
	"github.com/coldserve/coldserve/weights"
)

const defaultShapes = "1x16,1x128,8x128,32x128,4x512"

type options struct {
	shapes        []shape
	check         shape
	passes        int
	timing        cleantime.Options
	threads       int
	tol           float64
	cacheDir      string
	peersDir      string
	python        string
	onnx          string
	ortLib        string
	skip          map[string]bool
	jsonOut       string
	mdOut         string
	keepContended bool
	dtype         encoder.DType // ours and torch; ONNX Runtime stays float32
}

func main() {
	root := repoRoot()
	peersDefault := os.Getenv("PEERS_DIR")
	if peersDefault == "" && root != "" {
		peersDefault = filepath.Join(filepath.Dir(root), "shared", "peers")
	}
	threadsDefault := 2
	if n, err := strconv.Atoi(os.Getenv("OMP_NUM_THREADS")); err == nil && n > 0 {
		threadsDefault = n
	}
	shapeSpec := flag.String("shapes", defaultShapes, "comma-separated BATCHxSEQ")
	check := flag.String("check", "2x128", "BATCHxSEQ of the ours-vs-ONNX-Runtime output check (odd rows are cut to 3/4 length, so padding is checked too)")
	var o options
	flag.IntVar(&o.passes, "passes", 3, "passes; each times every engine on every shape")
	flag.IntVar(&o.timing.Warmup, "warmup", 1, "untimed runs per shape and pass")
	flag.IntVar(&o.timing.Runs, "runs", 5, "clean timed runs per shape and pass")
	maxSec := flag.Float64("max-seconds-per-shape", 30, "then stop at >= 5 clean runs")
	flag.IntVar(&o.threads, "threads", threadsDefault, "threads for every engine (default $OMP_NUM_THREADS, else 2)")
	flag.BoolVar(&o.keepContended, "keep-contended", false, "ours and ONNX Runtime keep (and count) runs overlapped by other load instead of retrying them (torch_peer.py cannot)")
	flag.Float64Var(&o.tol, "tol", 1e-4, "max |ours − ONNX Runtime| allowed in last_hidden_state")
	flag.StringVar(&o.cacheDir, "cache", defaultCacheDir(root), "where the weightgen checkpoint and its ONNX export are cached")
	flag.StringVar(&o.peersDir, "peers", peersDefault, "the peers' scripts (torch_peer.py); default $PEERS_DIR, else ../shared/peers from the repository root")
	flag.StringVar(&o.python, "python", os.Getenv("PYTHON"), "Python with torch and numpy (default $PYTHON, else /usr/bin/python3, else python3)")
	flag.StringVar(&o.onnx, "onnx", "", "ONNX model to run instead of exporting the weightgen checkpoint (must be the same weights, or the check fails)")
	flag.StringVar(&o.ortLib, "ort-lib", os.Getenv("ORT_LIB"), "libonnxruntime.so (default $ORT_LIB, else the onnxruntime-node package under $ORT_DIR or /tmp/peers/ort, else system paths)")
	dtype := flag.String("dtype", "float32", "float32, or bf16: ours and PyTorch in bfloat16 (needs AVX512-BF16 or AMX); ONNX Runtime stays float32, and the output check then reports without failing")
	skip := flag.String("skip", "", "comma-separated peers not to run: ort, torch")
	flag.StringVar(&o.jsonOut, "json", "", "also write the results as JSON here")
	flag.StringVar(&o.mdOut, "md", "", "also write the markdown report here (default CACHE/latest.md)")
	flag.Parse()

	var err error
	if o.shapes, err = shapes.Parse(*shapeSpec); err != nil {
		fatal(err)
	}
	cs, err := shapes.Parse(*check)
	if err != nil || len(cs) != 1 {
		fatal(fmt.Errorf("-check %q: want one BATCHxSEQ", *check))
	}
	o.check = cs[0]
	if o.dtype, err = encoder.ParseDType(*dtype); err != nil {
		fatal(fmt.Errorf("-dtype: %w", err))
	}
	if o.passes < 1 || o.threads < 1 {
		fatal(fmt.Errorf("-passes and -threads must be >= 1"))
	}
	o.timing.MaxSeconds = time.Duration(*maxSec * float64(time.Second))
	o.timing.QuietWait = cleantime.QuietWait()
	o.timing.KeepContended = o.keepContended
	o.skip = map[string]bool{}
	for _, s := range strings.Split(*skip, ",") {
		if s = strings.TrimSpace(s); s != "" {
			if s != "ort" && s != "torch" {
				fatal(fmt.Errorf("-skip %q: want ort and/or torch", s))
			}
			o.skip[s] = true
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ok, err := run(ctx, o)
	if err != nil {
		fatal(err)
	}
	if !ok {
		os.Exit(1)
	}
}

func fatal(err error) {
	slog.Error("bench compare failed", "err", err)
	os.Exit(2)
}

// runState is what a run found out, for the report.
type runState struct {
	started   time.Time
	ckDir     string
	ckID      string
	ckReused  bool
	onnxPath  string
	onnxNote  string
	checkNote string
	checkOK   bool
	limits    []gemmLimit // the machine's GEMM limit, timed before the passes
}

// run sets the engines up, checks outputs, times the passes and prints the report. ok is
// false when the output check failed or ours produced no timing at all.
func run(ctx context.Context, o options) (ok bool, err error) {
	st := runState{started: time.Now().UTC(), checkOK: true}
	logw := os.Stderr
	kernels.SetThreads(o.threads)
	cfg := weights.RobertaBaseConfig()
	ck := weights.Generate(cfg, 0, weights.GenerateOptions{})
	digest := ck.Digest() // hashes every weight: once (Weightgen's checkpoint does not memoise it)
	st.ckID = "sha256:" + digest[:12]
	st.ckDir = filepath.Join(o.cacheDir, "roberta-base-weightgen-s0")

	ours := &engineReport{Name: "ours"}
	ortR := &engineReport{Name: "ORT"}
	torchR := &engineReport{Name: "torch"}
	engines := []*engineReport{ours, ortR, torchR}

	// PyTorch: the peers' script and an interpreter that imports torch.
	var torch *torchEngine
	switch {
	case o.skip["torch"]:
		torchR.Absent = "skipped (-skip torch)"
	case o.peersDir == "":
		torchR.Absent = "no peers directory (set -peers or PEERS_DIR)"
	case !fileExists(filepath.Join(o.peersDir, "torch_peer.py")):
		torchR.Absent = fmt.Sprintf("no torch_peer.py in %s (set -peers or PEERS_DIR)", o.peersDir)
	default:
		py, ver, err := pythonTorch(ctx, o.python)
		if err != nil {
			torchR.Absent = err.Error()
			break
		}
		torch = &torchEngine{python: py, script: filepath.Join(o.peersDir, "torch_peer.py"), modelDir: st.ckDir,
			threads: o.threads, dtype: torchDType(o.dtype)}
		torchR.Info = fmt.Sprintf("PyTorch %s %s, %d threads (%s %s bench)", ver, torch.dtype, o.threads, py, torch.script)
	}

	// The checkpoint on disk, written when torch_peer.py will read it (bench, or the export).
	writeCheckpoint := sync.OnceValue(func() error {
		fmt.Fprintf(logw, "checkpoint: %s (weightgen seed 0, %s)\n", st.ckDir, st.ckID)
		var err error
		st.ckReused, err = ensureCheckpoint(ctx, st.ckDir, ck, digest)
		return err
	})
	if torch != nil {
		if err := writeCheckpoint(); err != nil {
			return false, err
		}
	}

	// ONNX Runtime: the library, a model, a session.
	var ortE inproc
	var lib string
	switch {
	case o.skip["ort"]:
		ortR.Absent = "skipped (-skip ort)"
	case !ortBuilt:
		ortR.Absent = "this build has no cgo (CGO_ENABLED=0), and onnxruntime_go needs it"
	default:
		if lib, err = ortLibrary(o.ortLib); err != nil {
			ortR.Absent = err.Error()
		}
	}
	if ortR.Absent == "" {
		st.onnxPath, st.onnxNote = o.onnx, "given by -onnx"
		if o.onnx == "" {
			st.onnxPath = filepath.Join(o.cacheDir, "roberta-base-weightgen-s0.onnx")
			switch {
			case stampMatches(st.onnxPath, digest):
				st.onnxNote = "cached export of the checkpoint"
			case torch == nil:
				ortR.Absent = fmt.Sprintf("no ONNX model: exporting the checkpoint needs PyTorch (absent: %s); give -onnx FILE",
					torchR.Absent)
			default:
				if err := writeCheckpoint(); err != nil {
					return false, err
				}
				if err := exportONNX(ctx, torch.python, o.peersDir, st.ckDir, st.onnxPath, digest); err != nil {
					ortR.Absent = "ONNX export failed: " + err.Error()
				}
				st.onnxNote = "exported now by torch_peer.py export"
			}
		}
	}
	if ortR.Absent == "" {
		e, info, err := newORT(lib, st.onnxPath, o.threads, cfg.PadTokenID)
		if err != nil {
			ortR.Absent = err.Error()
		} else {
			ortE, ortR.Info = e, info
			defer ortE.close()
		}
	}
	if ortR.Absent != "" {
		st.onnxPath = ""
	}

	enc, err := encoder.NewEncoder(ck, encoder.EncoderOptions{DType: o.dtype})
	if err != nil {
		return false, err
	}
	oursE := oursEngine{enc: enc}
	ours.Info = fmt.Sprintf("coldserve encoder (package encoder, %s, BLAS %s), %d threads, in process", o.dtype, kernels.BLAS,
		o.threads)

	// Outputs must agree before their speeds mean anything.
	if ortE != nil {
		ids := checkIDs(cfg, o.check)
		a, errA := oursE.hidden(ids)
		b, errB := ortE.hidden(ids)
		d, errD := maxAbsDiff(a, b)
		switch {
		case errA != nil || errB != nil || errD != nil:
			st.checkOK = false
			st.checkNote = fmt.Sprintf("FAIL: %v", firstErr(errA, errB, errD))
		case o.dtype != encoder.Float32:
			st.checkNote = fmt.Sprintf("max |ours (%s) − ORT (float32)| = %.3g, reported only (model's TestBaseGoldenBF16 checks bf16 accuracy)", o.dtype, d)
		case d <= o.tol:
			st.checkNote = fmt.Sprintf("max |ours − ORT| = %.2g (tol %.0e) PASS", d, o.tol)
		default:
			st.checkOK = false
			st.checkNote = fmt.Sprintf("max |ours − ORT| = %.3g > tol %.0e FAIL", d, o.tol)
			if o.onnx != "" {
				st.checkNote += " (is the -onnx model the weightgen seed-0 checkpoint?)"
			}
		}
		fmt.Fprintf(logw, "output check at %s (rows of %d and %d tokens): %s\n", o.check, o.check.Seq,
			checkLen(o.check.Seq), st.checkNote)
	}

	fmt.Fprintf(logw, "timing the machine's GEMM limit (%d×%d×%d)\n", limitM, limitK, limitN)
	st.limits = measureLimits(o.timing)
	for _, l := range st.limits {
		fmt.Fprintf(logw, "  %s: %s\n", l.Name, describeLimit(l))
	}

	for _, e := range engines {
		if e.Absent != "" {
			fmt.Fprintf(logw, "%s: absent: %s\n", e.Name, e.Absent)
		} else {
			e.Passes = make([][]timing, o.passes)
		}
	}
	// Each pass: ours and ORT back to back per shape (which goes first swaps every pass), and
	// torch's subprocess after them in passes 1, 3, … and before them in passes 2, 4, …, so
	// no engine always gets the later, possibly busier, minutes.
	tmpDir, err := os.MkdirTemp("", "bench-compare-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(tmpDir)
	var torchMeta string // what torch_peer.py says about itself (version, threads, BLAS libraries)
	for p := range o.passes {
		torchPass := func() {
			if torch == nil || ctx.Err() != nil {
				return
			}
			fmt.Fprintf(logw, "pass %d/%d torch, all shapes\n", p+1, o.passes)
			res, meta, err := torch.runPass(ctx, o.shapes, o.timing, tmpDir, logw)
			if err != nil {
				res = slices.Repeat([]timing{{Err: err.Error()}}, len(o.shapes))
			} else {
				torchMeta = meta
			}
			torchR.Passes[p] = res
		}
		if p%2 == 1 {
			torchPass()
		}
		order := []struct {
			r *engineReport
			e inproc
		}{{ours, oursE}, {ortR, ortE}}
		if p%2 == 1 {
			slices.Reverse(order)
		}
		for _, x := range order {
			if x.e != nil {
				x.r.Passes[p] = make([]timing, len(o.shapes))
			}
		}
		for i, s := range o.shapes {
			ids := encoder.SyntheticIDs(cfg, s.Batch, s.Seq)
			for _, x := range order {
				if x.e == nil || ctx.Err() != nil {
					continue
				}
				r, err := x.e.bench(ids, o.timing)
				x.r.Passes[p][i] = toTiming(r, err, s)
				fmt.Fprintf(logw, "pass %d/%d %s %s: %s\n", p+1, o.passes, s, x.r.Name, describe(x.r.Passes[p][i], r))
			}
		}
		if p%2 == 0 {
			torchPass()
		}
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
	}
	if torchMeta != "" {
		torchR.Info += "; " + torchMeta
	}

	rows := summarizeShapes(o.shapes, engines)
	report := renderReport(o, st, engines, rows, cfg)
	fmt.Print(report)
	if o.mdOut == "" {
		o.mdOut = filepath.Join(o.cacheDir, "latest.md")
	}
	if err := os.MkdirAll(filepath.Dir(o.mdOut), 0o755); err != nil {
		return false, err
	}
	if err := os.WriteFile(o.mdOut, []byte(report), 0o644); err != nil {
		return false, err
	}
	fmt.Fprintf(logw, "report written to %s\n", o.mdOut)
	if o.jsonOut != "" {
		raw, err := json.MarshalIndent(map[string]any{"date": st.started.Format(time.RFC3339), "machine": machine(),
			"cpu_flags": cpuinfo.Flags(), "kernels": kernels.Path(), "command": commandLine(), "checkpoint": st.ckID,
			"onnx": st.onnxPath, "check": st.checkNote, "limits": st.limits, "engines": engines, "summary": rows}, "", " ")
		if err != nil {
			return false, err
		}
		if err := os.WriteFile(o.jsonOut, raw, 0o644); err != nil {
			return false, err
		}
	}
	oursRan := slices.ContainsFunc(rows, func(r shapeSummary) bool { return r.TokensSec["ours"].N > 0 })
	return st.checkOK && oursRan, nil
}

func describe(t timing, r cleantime.Result) string {
	if !t.ok() {
		return "no result: " + t.Err
	}
	return fmt.Sprintf("%s  %.0f tokens/s", r, t.TokensSec)
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// checkLen is the length the output check cuts odd rows to: 3/4 of seq, at least 2.
func checkLen(seq int) int { return max(2, seq*3/4) }

// checkIDs is SyntheticIDs for s with every odd row cut to checkLen (ending in </s>), so the
// check covers a padded batch on ONNX Runtime's side.
func checkIDs(cfg weights.Config, s shape) [][]int32 {
	ids := encoder.SyntheticIDs(cfg, s.Batch, s.Seq)
	for b := 1; b < len(ids); b += 2 {
		n := checkLen(s.Seq)
		ids[b] = append(ids[b][:n-1:n-1], int32(cfg.EosTokenID))
	}
	return ids
}

// machine is the CPU model and count, OS/arch and Go version.
func machine() string {
	return fmt.Sprintf("%s, %d CPUs, %s/%s, %s", cpuinfo.Model(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// renderReport is the markdown the run prints: a header saying what ran where, then tables.
func renderReport(o options, st runState, engines []*engineReport, rows []shapeSummary, cfg weights.Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n### bench/compare, %s\n\n", st.started.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- **Machine:** %s; OMP_NUM_THREADS=%s; BLAS backend (ours): %s\n", machine(),
		envOr("OMP_NUM_THREADS", "unset"), kernels.BLAS)
	fmt.Fprintf(&b, "- **CPU flags:** %s\n", cpuinfo.Flags())
	fmt.Fprintf(&b, "- **Kernels (ours):** %s\n", kernels.Path())
	fmt.Fprintf(&b, "- **Command:** `%s`\n", commandLine())
	fmt.Fprintf(&b, "- **Checkpoint:** roberta-base geometry, weightgen seed 0 (%s), %s", st.ckID, st.ckDir)
	if st.ckReused {
		b.WriteString(" (cached)")
	}
	b.WriteString("\n")
	if st.onnxPath != "" {
		fmt.Fprintf(&b, "- **ONNX model:** %s (%s)\n", st.onnxPath, st.onnxNote)
	}
	for _, e := range engines {
		if e.Absent != "" {
			fmt.Fprintf(&b, "- **%s:** absent: %s\n", e.Name, e.Absent)
		} else {
			fmt.Fprintf(&b, "- **%s:** %s\n", e.Name, e.Info)
		}
	}
	if st.checkNote != "" {
		fmt.Fprintf(&b, "- **Output check** (%s, odd rows cut to %d tokens): %s\n", o.check, checkLen(o.check.Seq), st.checkNote)
	} else {
		b.WriteString("- **Output check:** not run (ONNX Runtime absent)\n")
	}
	keep := "contended runs dropped and retried"
	if o.keepContended {
		keep = "ours and ORT keep contended runs (torch drops them)"
	}
	fmt.Fprintf(&b, "- **Timing:** passes: %d; per pass and shape %d warm-up, median of %d clean runs (max %gs/shape), %s; "+
		"QUIET_WAIT=%gs. Inputs: encoder.SyntheticIDs, all-ones mask (torch: its own random ids, same shapes). "+
		"Order: ours and ORT back to back per shape, which goes first swapping every pass; torch after them in passes 1, 3, …, before them in 2, 4, ….\n",
		o.passes, o.timing.Warmup, o.timing.Runs, o.timing.MaxSeconds.Seconds(), keep, o.timing.QuietWait.Seconds())
	b.WriteString("\nTokens/s: median over passes of each pass's median (min–max over passes). " +
		"Ratios: ours ÷ peer tokens/s within each pass, median (min–max) over passes.\n\n")
	writeTables(&b, rows, o.shapes, engines, o.passes)
	writeLimits(&b, st.limits, rows, o.shapes, engines, o, cfg)
	writeFailures(&b, o.shapes, engines)
	return b.String()
}

// commandLine is a command that reruns this measurement: the environment that matters, the
// build (BLAS tag) and the flags as given.
func commandLine() string {
	var parts []string
	for _, k := range []string{"OMP_NUM_THREADS", "QUIET_WAIT", "PEERS_DIR", "ORT_LIB", "ORT_DIR", "PYTHON"} {
		if v, ok := os.LookupEnv(k); ok {
			parts = append(parts, k+"="+shellQuote(v))
		}
	}
	switch kernels.BLAS {
	case "onednn":
		parts = append(parts, "go run -tags dnnl")
	case "gonum":
		parts = append(parts, "CGO_ENABLED=0 go run")
	default:
		parts = append(parts, "go run")
	}
	parts = append(parts, "./bench/compare")
	for _, a := range os.Args[1:] {
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

// shellQuote single-quotes s when it holds anything a shell would split or expand.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=.,/:+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
