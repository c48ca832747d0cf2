package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/coldserve/coldserve/bench/internal/cleantime"
	"github.com/coldserve/coldserve/encoder"
)

// inproc is an engine timed inside this process, one shape at a time (ours, ONNX Runtime).
type inproc interface {
	// bench times a forward pass over ids (all rows the same length).
	bench(ids [][]int32, o cleantime.Options) (cleantime.Result, error)
	// hidden is last_hidden_state for ids (rows may differ in length): per sequence, its real
	// tokens' rows.
	hidden(ids [][]int32) ([][][]float32, error)
	close()
}

// oursEngine is coldserve's encoder, exactly as bench/encoder times it.
type oursEngine struct{ enc *encoder.Encoder }

func (o oursEngine) bench(ids [][]int32, opts cleantime.Options) (cleantime.Result, error) {
	ctx := context.Background()
	return cleantime.Bench(func() error { _, err := o.enc.Forward(ctx, ids); return err }, opts)
}

func (o oursEngine) hidden(ids [][]int32) ([][][]float32, error) {
	out, err := o.enc.Forward(context.Background(), ids)
	if err != nil {
		return nil, err
	}
	h := make([][][]float32, out.Len())
	for i := range h {
		h[i] = out.Hidden(i)
	}
	return h, nil
}

func (oursEngine) close() {}

func toTiming(r cleantime.Result, err error, s shape) timing {
	if err != nil {
		return timing{Err: err.Error(), Dropped: r.Dropped}
	}
	return timing{MedianMS: cleantime.MS(r.Median), MinMS: cleantime.MS(r.Min), MaxMS: cleantime.MS(r.Max),
		TokensSec: float64(s.Tokens()) / r.Median.Seconds(), Runs: r.Runs, Dropped: r.Dropped}
}

// maxAbsDiff is the largest |a−b| over every sequence's real tokens; it fails when the two
// disagree on how many sequences, tokens or hidden values there are.
func maxAbsDiff(a, b [][][]float32) (float64, error) {
	if len(a) != len(b) {
		return 0, fmt.Errorf("%d sequences against %d", len(a), len(b))
	}
	var worst float64
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return 0, fmt.Errorf("sequence %d: %d tokens against %d", i, len(a[i]), len(b[i]))
		}
		for t := range a[i] {
			if len(a[i][t]) != len(b[i][t]) {
				return 0, fmt.Errorf("sequence %d token %d: width %d against %d", i, t, len(a[i][t]), len(b[i][t]))
			}
			for k, x := range a[i][t] {
				d := math.Abs(float64(x) - float64(b[i][t][k]))
				if math.IsNaN(d) {
					return d, nil // NaN is the worst disagreement
				}
				worst = max(worst, d)
			}
		}
	}
	return worst, nil
}

// torchEngine runs ../shared/peers/torch_peer.py bench as a subprocess, all shapes per pass.
// It makes its own random ids of each shape (torch.randint) with an all-ones mask: the same
// shapes and cost as ours, not the same token values, which a dense encoder's time does not
// depend on.
type torchEngine struct {
	python, script, modelDir string
	threads                  int
	dtype                    string // torch_peer.py --dtype: fp32 or bf16
}

// torchDType is torch_peer.py's name for d.
func torchDType(d encoder.DType) string {
	if d == encoder.BFloat16 {
		return "bf16"
	}
	return "fp32"
}

// torchJSON is what torch_peer.py bench --json writes.
type torchJSON struct {
	Meta struct {
		Torch   string   `json:"torch"`
		Threads int      `json:"threads"`
		DType   string   `json:"dtype"`
		Libs    []string `json:"libs"`
	} `json:"meta"`
	Results []struct {
		Batch, Seq int
		MedianMS   *float64 `json:"median_ms"`
		MinMS      *float64 `json:"min_ms"`
		MaxMS      *float64 `json:"max_ms"`
		TokensSec  *float64 `json:"tokens_per_s"`
		Runs       int      `json:"runs"`
		Dropped    int      `json:"dropped_contended"`
	} `json:"results"`
}

// pythonNonFinite matches the NaN/Infinity literals Python's json writes (not JSON).
var pythonNonFinite = regexp.MustCompile(`-?\bInfinity\b|\bNaN\b`)

// runPass times every shape once; it streams the script's output to log, prefixed, and
// returns the BLAS libraries torch had loaded.
func (t torchEngine) runPass(ctx context.Context, shapes []shape, o cleantime.Options, tmpDir string,
	log io.Writer) ([]timing, string, error) {
	jsonPath := filepath.Join(tmpDir, "torch.json")
	os.Remove(jsonPath)
	specs := make([]string, len(shapes))
	for i, s := range shapes {
		specs[i] = s.String()
	}
	cmd := exec.CommandContext(ctx, t.python, t.script, "--model", t.modelDir, "--threads", strconv.Itoa(t.threads),
		"bench", "--shapes", strings.Join(specs, ","), "--warmup", strconv.Itoa(o.Warmup),
		"--runs", strconv.Itoa(o.Runs), "--max-seconds-per-shape", fmt.Sprint(o.MaxSeconds.Seconds()),
		"--dtype", t.dtype, "--json", jsonPath)
	cmd.Env = append(os.Environ(), fmt.Sprintf("QUIET_WAIT=%g", o.QuietWait.Seconds()))
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	done := make(chan struct{})
	var tail []string
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			fmt.Fprintf(log, "  torch: %s\n", sc.Text())
			tail = append(tail, sc.Text())
			if len(tail) > 5 {
				tail = tail[1:]
			}
		}
	}()
	err := cmd.Run()
	pw.Close()
	<-done
	if err != nil {
		return nil, "", fmt.Errorf("torch_peer.py bench: %w: %s", err, strings.Join(tail, " / "))
	}
	raw, err := os.ReadFile(jsonPath)
	if err != nil {
		return nil, "", fmt.Errorf("torch_peer.py bench: %w", err)
	}
	out, tj, err := parseTorchJSON(raw, shapes)
	if err != nil {
		return nil, "", fmt.Errorf("torch_peer.py bench output %s: %w", jsonPath, err)
	}
	return out, "libraries " + strings.Join(tj.Meta.Libs, " "), nil
}

// parseTorchJSON maps torch_peer.py's results onto shapes. A shape it did not time, or timed
// with no clean run (Python writes NaN then), gets a timing with Err set.
func parseTorchJSON(raw []byte, shapes []shape) ([]timing, torchJSON, error) {
	var tj torchJSON
	if err := json.Unmarshal(pythonNonFinite.ReplaceAll(raw, []byte("null")), &tj); err != nil {
		return nil, tj, err
	}
	out := make([]timing, len(shapes))
	for i, s := range shapes {
		out[i] = timing{Err: "missing from torch_peer.py output"}
		for _, r := range tj.Results {
			if r.Batch != s.Batch || r.Seq != s.Seq {
				continue
			}
			if r.MedianMS == nil || r.TokensSec == nil || r.MinMS == nil || r.MaxMS == nil || r.Runs == 0 {
				out[i] = timing{Err: fmt.Sprintf("no clean run (%d contended)", r.Dropped), Dropped: r.Dropped}
				break
			}
			out[i] = timing{MedianMS: *r.MedianMS, MinMS: *r.MinMS, MaxMS: *r.MaxMS, TokensSec: *r.TokensSec,
				Runs: r.Runs, Dropped: r.Dropped}
			break
		}
	}
	return out, tj, nil
}
