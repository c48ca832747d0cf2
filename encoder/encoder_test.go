package encoder

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/coldserve/coldserve/weights"
)

// maxAbsRows is the largest absolute difference between two row sets (Inf if they differ
// in shape).
func maxAbsRows(a, b [][]float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var m float64
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return math.Inf(1)
		}
		for j := range a[i] {
			d := math.Abs(float64(a[i][j]) - float64(b[i][j]))
			if d > m || math.IsNaN(d) {
				m = d
				if math.IsNaN(d) {
					m = math.Inf(1)
				}
			}
		}
	}
	return m
}

// mixedIDs picks tiny.json texts of very different lengths, including the 512-token one
// and the text with a literal <pad> id inside (its position ids skip that token).
func mixedIDs(t *testing.T) [][]int32 {
	g := readGolden(t, "tiny.json")
	var ids [][]int32
	for _, i := range []int{0, 3, 14, 37, 60, 61, 80} {
		ids = append(ids, g.Items[i].IDs)
	}
	return ids
}

// TestMixedBatchEqualsAlone checks packing: every sequence of a packed batch of mixed
// lengths gives the rows it gives alone (attention never crosses into a neighbour).
func TestMixedBatchEqualsAlone(t *testing.T) {
	e := mustEncoder(t, tinyCheckpoint(t), EncoderOptions{})
	ids := mixedIDs(t)
	batch, err := e.Forward(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	if batch.Len() != len(ids) {
		t.Fatalf("Len() = %d, want %d", batch.Len(), len(ids))
	}
	for i, s := range ids {
		alone, err := e.Forward(context.Background(), [][]int32{s})
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsRows(batch.Hidden(i), alone.Hidden(0)); d > 1e-5 {
			t.Errorf("sequence %d (%d tokens): batched vs alone max abs diff %.3g", i, len(s), d)
		}
	}
}

// TestMachineCacheEviction runs shapes alternately through a one-machine cache, so every
// call recompiles and the worker's scratch grows and shrinks between shapes; the results
// must not change.
func TestMachineCacheEviction(t *testing.T) {
	ids := mixedIDs(t)
	ref := mustEncoder(t, tinyCheckpoint(t), EncoderOptions{})
	e := mustEncoder(t, tinyCheckpoint(t), EncoderOptions{MachineCache: 1})
	batches := [][][]int32{ids[:2], ids, ids[:2], ids[3:4], ids}
	for k, b := range batches {
		want, err := ref.Forward(context.Background(), b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.Forward(context.Background(), b)
		if err != nil {
			t.Fatal(err)
		}
		for i := range b {
			if d := maxAbsRows(got.Hidden(i), want.Hidden(i)); d != 0 {
				t.Errorf("call %d sequence %d: max abs diff %.3g after eviction", k, i, d)
			}
		}
	}
}

// TestForwardRejectsBadInput: client mistakes come back as *InputError, never a panic.
func TestForwardRejectsBadInput(t *testing.T) {
	e := mustEncoder(t, tinyCheckpoint(t), EncoderOptions{})
	c := e.Config()
	long := make([]int32, c.MaxInputTokens()+1)
	ok := []int32{0, 100, 2}
	cases := []struct {
		name string
		ids  [][]int32
		seq  int
	}{
		{"nil batch", nil, -1},
		{"empty batch", [][]int32{}, -1},
		{"empty sequence", [][]int32{ok, {}}, 1},
		{"negative id", [][]int32{{0, -1, 2}}, 0},
		{"id equal to vocab size", [][]int32{ok, {0, int32(c.VocabSize), 2}}, 1},
		{"too long", [][]int32{ok, ok, long}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o, err := e.Forward(context.Background(), tc.ids)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("got output %v, error %v; want *InputError", o, err)
			}
			if ie.Seq != tc.seq {
				t.Errorf("InputError.Seq = %d, want %d (%v)", ie.Seq, tc.seq, err)
			}
		})
	}
	// The longest allowed sequence runs.
	if _, err := e.Forward(context.Background(), [][]int32{long[:c.MaxInputTokens()]}); err != nil {
		t.Errorf("%d tokens: %v", c.MaxInputTokens(), err)
	}
}

// TestForwardCancelled: a cancelled context stops the pass with the context's error.
func TestForwardCancelled(t *testing.T) {
	e := mustEncoder(t, tinyCheckpoint(t), EncoderOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Forward(ctx, [][]int32{{0, 100, 2}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

// TestConcurrentForward runs many goroutines on one Encoder (fewer workers than callers)
// and checks each result against a sequential run; -race must stay quiet.
func TestConcurrentForward(t *testing.T) {
	ids := mixedIDs(t)
	ids = ids[:len(ids)-1] // leave out the 512-token text: many batches, kept quick under -race
	e := mustEncoder(t, tinyCheckpoint(t), EncoderOptions{Workers: 3, MachineCache: 2})
	var batches [][][]int32
	for i := range ids {
		batches = append(batches, ids[i:], ids[:i+1], [][]int32{ids[i]})
	}
	want := make([]*Output, len(batches))
	for k, b := range batches {
		o, err := e.Forward(context.Background(), b)
		if err != nil {
			t.Fatal(err)
		}
		want[k] = o
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4*len(batches))
	for rep := 0; rep < 4; rep++ {
		for k, b := range batches {
			wg.Add(1)
			go func() {
				defer wg.Done()
				o, err := e.Forward(context.Background(), b)
				if err != nil {
					errs <- err
					return
				}
				for i := range b {
					if d := maxAbsRows(o.Hidden(i), want[k].Hidden(i)); d > 1e-6 {
						errs <- fmt.Errorf("batch %d sequence %d: max abs diff %.3g", k, i, d)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestNewEncoderRejectsBadCheckpoints: missing or mis-shaped tensors and bad configs are
// errors naming the problem.
func TestNewEncoderRejectsBadCheckpoints(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(ck *weights.Checkpoint)
	}{
		{"nil checkpoint", nil},
		{"missing tensor", func(ck *weights.Checkpoint) { delete(ck.Tensors, "encoder.layer.1.output.dense.bias") }},
		{"wrong shape", func(ck *weights.Checkpoint) {
			w := ck.Tensors["encoder.layer.0.intermediate.dense.weight"]
			ck.Tensors["encoder.layer.0.intermediate.dense.weight"] = &weights.Tensor{Shape: []int{w.Shape[1], w.Shape[0]}, Data: w.Data}
		}},
		{"short data", func(ck *weights.Checkpoint) {
			b := ck.Tensors["embeddings.LayerNorm.bias"]
			ck.Tensors["embeddings.LayerNorm.bias"] = &weights.Tensor{Shape: b.Shape, Data: b.Data[:3]}
		}},
		{"unsupported activation", func(ck *weights.Checkpoint) { ck.Config.HiddenAct = "relu" }},
		{"heads do not divide hidden", func(ck *weights.Checkpoint) { ck.Config.NumAttentionHeads = 5 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ck *weights.Checkpoint
			if tc.mutate != nil {
				ck = tinyCheckpoint(t)
				tc.mutate(ck)
			}
			if e, err := NewEncoder(ck, EncoderOptions{}); err == nil {
				t.Fatalf("NewEncoder succeeded (%v), want an error", e != nil)
			} else {
				t.Log(err)
			}
		})
	}
}

// TestEncoderIdentity: the encoder reports its checkpoint's config and ID.
func TestEncoderIdentity(t *testing.T) {
	ck := tinyCheckpoint(t)
	e := mustEncoder(t, ck, EncoderOptions{})
	if got, want := e.CheckpointID(), ck.ID(); got != want || got == "" {
		t.Errorf("CheckpointID() = %q, want %q", got, want)
	}
	if e.Config().HiddenSize != ck.Config.HiddenSize || e.Config().NumHiddenLayers != ck.Config.NumHiddenLayers {
		t.Errorf("Config() = %+v, want the checkpoint's", e.Config())
	}
}
