package inference

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/coldserve/coldserve/encoder"
	"github.com/coldserve/coldserve/engine"
)

// probeTexts are the fixed inputs of the probe forward pass and of the drift measurement: short
// and long, prose and code, several scripts, so that a broken checkpoint shows up and drift is
// measured on more than one kind of text.
var probeTexts = []string{
	"The quick brown fox jumps over the lazy dog.",
	"ColD Fusion recycles finetuned models into a better shared base model.",
	"I loved this movie, the acting was superb!",
	"Terrible service; I will never come back.",
	"What is the capital of France?",
	"func main() { fmt.Println(\"hello, world\") }",
	"Der schnelle braune Fuchs springt über den faulen Hund.",
	"東京は日本の首都です。",
	"a",
	"Interest rates rose by 0.25 percentage points on Tuesday, the central bank said in a statement.",
}

// NonFiniteOutputError says a probe forward pass produced NaN or ±Inf: the weights load
// and have the right shapes but cannot serve.
type NonFiniteOutputError struct {
	Input int // index into the probe inputs
	Value float32
}

// ErrNonFinite is the kind of *NonFiniteOutputError, for errors.Is.
var ErrNonFinite = errors.New("non-finite probe output")

func (e *NonFiniteOutputError) Is(target error) bool { return target == ErrNonFinite }

func (e *NonFiniteOutputError) Error() string {
	return fmt.Sprintf("probe forward pass: input %d produced a non-finite value (%v)", e.Input, e.Value)
}

// forward runs ids through an encoder and returns the encoder with each sequence's row.
type forward func(ctx context.Context, ids [][]int32) (*encoder.Encoder, []engine.Row[*encoder.Output], error)

// direct runs a candidate that no engine serves yet.
func direct(enc *encoder.Encoder) forward {
	return func(ctx context.Context, ids [][]int32) (*encoder.Encoder, []engine.Row[*encoder.Output], error) {
		out, err := enc.Forward(ctx, ids)
		if err != nil {
			return nil, nil, err
		}
		rows := make([]engine.Row[*encoder.Output], len(ids))
		for i := range rows {
			rows[i] = engine.Row[*encoder.Output]{Output: out, Index: i}
		}
		return enc, rows, nil
	}
}

// through runs a lane's engine, as requests do: a started lane is probed with its batcher.
func through(l *lane) forward {
	return func(ctx context.Context, ids [][]int32) (*encoder.Encoder, []engine.Row[*encoder.Output], error) {
		res, err := l.eng.Submit(ctx, ids)
		return res.Forwarder, res.Rows, err
	}
}

// probe runs ids through run and returns each input's mean-pooled vector, failing with
// *NonFiniteOutputError when any hidden value is not finite: weights that load with the right
// shapes may still be unable to serve. Load, swaps and head changes all probe with it.
func probe(ctx context.Context, run forward, ids [][]int32) ([][]float32, error) {
	enc, rows, err := run(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("probe forward pass: %w", err)
	}
	vecs := make([][]float32, len(ids))
	for i, row := range rows {
		for _, h := range row.Output.Hidden(row.Index) {
			for _, v := range h {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return nil, &NonFiniteOutputError{Input: i, Value: v}
				}
			}
		}
		if vecs[i], err = enc.Pool(row.Output, row.Index, encoder.PoolMean, false); err != nil {
			return nil, fmt.Errorf("probe pooling: %w", err)
		}
	}
	return vecs, nil
}

// Drift says how far a new checkpoint's pooled vectors moved from the served one's on the probe
// inputs: the cosine similarity of each input's mean-pooled vectors, old vs new. 1 means
// identical directions; vectors stored by clients stay comparable only when drift is near 1.
// Comparable is false when the widths differ (a geometry change): the vectors cannot be
// compared at all and Mean/Min are 0.
type Drift struct {
	Mean, Min  float64
	Probes     int
	Comparable bool
}

// measureDrift compares old and new pooled vectors input by input.
func measureDrift(old, new [][]float32) Drift {
	d := Drift{Probes: len(old)}
	if len(old) == 0 || len(old) != len(new) {
		return d
	}
	d.Min = math.Inf(1)
	for i := range old {
		if len(old[i]) != len(new[i]) {
			return Drift{Probes: len(old)}
		}
		c := cosine(old[i], new[i])
		d.Mean += c
		d.Min = math.Min(d.Min, c)
	}
	d.Mean /= float64(len(old))
	d.Comparable = true
	return d
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		dot += x * y
		na += x * x
		nb += y * y
	}
	if na == 0 || nb == 0 {
		if na == nb {
			return 1
		}
		return 0
	}
	return dot / math.Sqrt(na*nb)
}
