package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// queueBehindBlocker occupies the batcher with a gated one-token pass, then submits reqs one
// by one (each admitted before the next, so the admission order is reqs' order) and waits until
// all of them are queued. It returns a channel of per-request errors, closed when all are done.
// submitAndCheck submits request i and reports to errs any error or any row that is not
// the output for the ids it sent.
func submitAndCheck(e *Engine[*fakeForwarder, fakeOut], i int, ids [][]int32, errs chan<- error) {
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
}

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
			submitAndCheck(e, i, ids, errs)
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
	synctest.Test(t, func(t *testing.T) {
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
	})
}

// The oldest request is in the very next batch, however many shorter requests queue behind it
// (a pure shortest-first packer would run the short ones first and keep doing so while they
// keep arriving).
func TestOldestRequestIsNeverStarved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
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
	})
}

// Under continuous arrival of mixed lengths from eight clients every request completes (a
// starved one would hang the test) with its own rows, and every batch keeps to the budget.
func TestNoStarvationUnderContinuousArrival(t *testing.T) {
	f := &fakeForwarder{name: "a"}
	// The queue holds every client's request, so none is refused: this is about fairness.
	e := newEngine(t, f, Options{MaxBatchTokens: 24, MaxQueueTokens: 8 * 3 * 12})
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

// BatchWait: a request waking the idle batcher waits for company; a full budget ends the wait
// early, the timer ends it otherwise, and Close ends it with the request still computed.
func TestBatchWait(t *testing.T) {
	t.Run("budget full ends the wait", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := &fakeForwarder{name: "a"}
			e := newEngine(t, f, Options{MaxBatchTokens: 8, BatchWait: time.Minute})
			start := time.Now()
			var wg sync.WaitGroup
			for i, n := range []int{4, 4} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ids := [][]int32{seq(int32(i+1), n)}
					res, err := e.Submit(context.Background(), ids)
					if err != nil {
						t.Error(err)
						return
					}
					checkRows(t, res, ids)
				}()
				if i == 0 {
					waitDepth(t, e, 1) // the first request is lingering, not yet in a batch
				}
			}
			wg.Wait()
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("took %v: the full budget did not end the wait", d)
			}
			if b := f.seen(); len(b) != 1 || len(b[0]) != 2 {
				t.Errorf("batches %v, want one of both requests", b)
			}
		})
	})
	t.Run("timer ends the wait", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := &fakeForwarder{name: "a"}
			e := newEngine(t, f, Options{BatchWait: 20 * time.Millisecond})
			ids := [][]int32{seq(1, 3)}
			start := time.Now()
			res, err := e.Submit(context.Background(), ids)
			if err != nil {
				t.Fatal(err)
			}
			checkRows(t, res, ids)
			if d := time.Since(start); d < 20*time.Millisecond {
				t.Errorf("answered after %v, before the wait of 20ms", d)
			}
		})
	})
	t.Run("close ends the wait", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := &fakeForwarder{name: "a"}
			e, err := New[*fakeForwarder, fakeOut](f, Options{BatchWait: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			ids := [][]int32{seq(1, 3)}
			done := make(chan error, 1)
			go func() {
				res, err := e.Submit(context.Background(), ids)
				if err == nil && !slices.Equal(res.Rows[0].Output.ids[res.Rows[0].Index], ids[0]) {
					err = fmt.Errorf("wrong row")
				}
				done <- err
			}()
			waitDepth(t, e, 1)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := e.Close(ctx); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := <-done; err != nil {
				t.Errorf("request lingering at Close: %v", err)
			}
		})
	})
	if _, err := New[*fakeForwarder, fakeOut](&fakeForwarder{}, Options{BatchWait: -time.Second}); err == nil {
		t.Error("negative BatchWait accepted")
	}
}
