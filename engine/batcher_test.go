package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// queueBehindBlocker occupies the batcher with a gated one-token pass, then submits reqs one
// by one (each admitted before the next, so the admission order is reqs' order) and waits until
// all of them are queued. It returns a channel of per-request errors, closed when all are done.
func queueBehindBlocker(t *testing.T, e *Engine[*fakeForwarder, fakeOut], f *fakeForwarder, reqs [][][]int32) <-chan error {
	t.Helper()
	go func() { _, _ = e.Submit(context.Background(), [][]int32{{0}}) }()
	waitEntered(t, f)
	errs := make(chan error, len(reqs))
	var wg sync.WaitGroup
	depth := 0
	for i, ids := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := e.Submit(context.Background(), ids)
			if err != nil {
				errs <- fmt.Errorf("request %d: %w", i, err)
				return
			}
			for j, row := range res.Rows {
				if !slices.Equal(row.Output.ids[row.Index], ids[j]) {
					errs <- fmt.Errorf("request %d row %d = %v, want %v", i, j, row.Output.ids[row.Index], ids[j])
				}
			}
		}()
		depth += len(ids)
		waitDepth(t, e, depth)
	}
	go func() { wg.Wait(); close(errs) }()
	return errs
}

// lengths summarises a batch as its sequences' lengths, sorted.
func lengths(b [][]int32) []int {
	out := make([]int, len(b))
	for i, s := range b {
		out[i] = len(s)
	}
	slices.Sort(out)
	return out
}

// When the queue holds more than one batch, batches group similar lengths: the padded cost is
// lower than FIFO packing's, and each row still belongs to its own request.
func TestBatchesGroupSimilarLengths(t *testing.T) {
	f := newGated("a")
	e := newEngine(t, f, Options{MaxBatchTokens: 32})
	var reqs [][][]int32
	for i, n := range []int{1, 8, 2, 8, 1, 8, 2, 8} {
		reqs = append(reqs, [][]int32{seq(int32(i+1), n)})
	}
	errs := queueBehindBlocker(t, e, f, reqs)
	close(f.gate)
	for err := range errs {
		t.Error(err)
	}
	batches := f.seen()[1:]
	want := [][]int{{1, 1, 2, 2}, {8, 8, 8, 8}} // FIFO would pack {1,8,2,8} twice: 64 padded tokens, not 40
	if len(batches) != len(want) {
		t.Fatalf("batches %v, want lengths %v", batches, want)
	}
	for i, b := range batches {
		if got := lengths(b); !slices.Equal(got, want[i]) {
			t.Errorf("batch %d lengths %v, want %v", i, got, want[i])
		}
	}
}

// The oldest request is in the very next batch, however many shorter requests queue behind it
// (a pure shortest-first packer would run the short ones first and keep doing so while they
// keep arriving).
func TestOldestRequestIsNeverStarved(t *testing.T) {
	f := newGated("a")
	e := newEngine(t, f, Options{MaxBatchTokens: 16})
	reqs := [][][]int32{{seq(100, 9)}}
	for i := range 20 {
		reqs = append(reqs, [][]int32{seq(int32(i+1), 1)})
	}
	errs := queueBehindBlocker(t, e, f, reqs)
	close(f.gate)
	for err := range errs {
		t.Error(err)
	}
	batches := f.seen()[1:]
	if len(batches) == 0 || !slices.ContainsFunc(batches[0], func(s []int32) bool { return s[0] == 100 }) {
		t.Fatalf("the oldest request is not in the first batch after it queued: %v", batches)
	}
	// Then the short ones, packed to the budget.
	if got := len(batches); got != 3 || len(batches[1]) != 16 || len(batches[2]) != 4 {
		t.Errorf("batches of %v sequences, want [1 16 4]", func() []int {
			var n []int
			for _, b := range batches {
				n = append(n, len(b))
			}
			return n
		}())
	}
}

// Under continuous arrival of mixed lengths from eight clients every request completes (a
// starved one would hang the test) with its own rows, and every batch keeps to the budget.
func TestNoStarvationUnderContinuousArrival(t *testing.T) {
	f := &fakeForwarder{name: "a"}
	e := newEngine(t, f, Options{MaxBatchTokens: 24})
	rng := rand.New(rand.NewPCG(1, 2))
	var wg sync.WaitGroup
	for c := range 8 {
		wg.Add(1)
		seed := rng.Uint64()
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(c)))
			for i := range 30 {
				tag := int32(1000*c + i + 1)
				ids := make([][]int32, 1+r.IntN(3))
				for j := range ids {
					ids[j] = seq(tag, 1+r.IntN(12))
				}
				res, err := e.Submit(context.Background(), ids)
				if err != nil {
					t.Error(err)
					return
				}
				for j, row := range res.Rows {
					if !slices.Equal(row.Output.ids[row.Index], ids[j]) {
						t.Errorf("client %d request %d row %d = %v, want %v", c, i, j, row.Output.ids[row.Index], ids[j])
					}
				}
			}
		}()
	}
	wg.Wait()
	n := 0
	for _, b := range f.seen() {
		n += len(b)
		if longest := slices.Max(lengths(b)); len(b) > 1 && longest*len(b) > 24 {
			t.Errorf("batch %v over budget", lengths(b))
		}
	}
	if n == 0 {
		t.Fatal("no sequences computed")
	}
}
