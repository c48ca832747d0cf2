package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fakeOut is the output of fakeForwarder: the batch it saw, tagged with the forwarder's name.
type fakeOut struct {
	by  string
	ids [][]int32
}

// fakeForwarder records every batch. When gate is set, each Forward announces itself on entered
// and then waits until the test sends on (or closes) gate.
type fakeForwarder struct {
	name    string
	gate    chan struct{}
	entered chan struct{}
	err     error
	panics  bool
	delay   time.Duration // each Forward takes at least this long

	mu      sync.Mutex
	batches [][][]int32
}

func newGated(name string) *fakeForwarder {
	return &fakeForwarder{name: name, gate: make(chan struct{}), entered: make(chan struct{}, 100)}
}

func (f *fakeForwarder) Forward(ctx context.Context, ids [][]int32) (fakeOut, error) {
	f.mu.Lock()
	f.batches = append(f.batches, slices.Clone(ids))
	f.mu.Unlock()
	if f.gate != nil {
		f.entered <- struct{}{}
		select {
		case <-f.gate:
		case <-ctx.Done():
			return fakeOut{}, ctx.Err()
		}
	}
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	if f.panics {
		panic("boom")
	}
	if f.err != nil {
		return fakeOut{}, f.err
	}
	return fakeOut{by: f.name, ids: ids}, nil
}

func (f *fakeForwarder) seen() [][][]int32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.batches)
}

// seq builds a sequence of n ids that all equal tag, so every row identifies its request.
func seq(tag int32, n int) []int32 {
	s := make([]int32, n)
	for i := range s {
		s[i] = tag
	}
	return s
}

func newEngine(t *testing.T, f *fakeForwarder, opts Options) *Engine[*fakeForwarder, fakeOut] {
	t.Helper()
	e, err := New[*fakeForwarder, fakeOut](f, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if f.gate != nil {
			select {
			case <-f.gate:
			default:
				close(f.gate)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

// checkRows asserts that every row of res points at exactly the submitted sequence.
func checkRows(t *testing.T, res Result[*fakeForwarder, fakeOut], ids [][]int32) {
	t.Helper()
	if len(res.Rows) != len(ids) {
		t.Fatalf("got %d rows, want %d", len(res.Rows), len(ids))
	}
	for i, row := range res.Rows {
		got := row.Output.ids[row.Index]
		if !slices.Equal(got, ids[i]) {
			t.Fatalf("row %d = %v, want %v", i, got, ids[i])
		}
	}
}

// waitEntered waits until the gated forwarder has started a forward pass.
func waitEntered(t *testing.T, f *fakeForwarder) {
	t.Helper()
	select {
	case <-f.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("forwarder was never called")
	}
}

// waitDepth requires the given queue depth once every goroutine of the test's bubble
// (testing/synctest) is blocked: the submitters waiting for their rows, the batcher for the
// forwarder. No polling, no timing: the test runs inside synctest.Test.
func waitDepth(t *testing.T, e *Engine[*fakeForwarder, fakeOut], want int) {
	t.Helper()
	synctest.Wait()
	if got := e.QueueDepth(); got != want {
		t.Fatalf("queue depth %d, want %d", got, want)
	}
}

func TestSubmitReturnsRowsInOrder(t *testing.T) {
	f := &fakeForwarder{name: "a"}
	e := newEngine(t, f, Options{})
	ids := [][]int32{seq(1, 3), seq(2, 5), seq(3, 1)}
	res, err := e.Submit(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, res, ids)
	if res.Forwarder != f {
		t.Errorf("result forwarder %v, want %v", res.Forwarder.name, f.name)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, opts := range []Options{{MaxBatchTokens: -1}, {MaxQueueSequences: -3}, {MaxQueueTokens: -1}, {Concurrency: -1},
		{MaxQueueWait: -time.Second}, {BatchWait: -time.Second}} {
		if _, err := New[*fakeForwarder, fakeOut](&fakeForwarder{}, opts); err == nil {
			t.Errorf("New(%+v) succeeded", opts)
		}
	}
}

func TestSubmitEmptyAndCancelledBeforeAdmission(t *testing.T) {
	f := &fakeForwarder{name: "a"}
	e := newEngine(t, f, Options{})
	if _, err := e.Submit(context.Background(), nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty submit: %v, want ErrEmpty", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Submit(ctx, [][]int32{{1}}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled submit: %v, want context.Canceled", err)
	}
	if n := len(f.seen()); n != 0 {
		t.Errorf("forwarder ran %d batches, want 0", n)
	}
}

// While one batch runs, concurrent requests pile up and run together in the next one, within
// the padded token budget.
func TestCoalescesWithinBudget(t *testing.T) {
	tests := []struct {
		name     string
		budget   int
		requests [][][]int32
	}{
		{"all fit", 64, [][][]int32{{seq(1, 4)}, {seq(2, 2), seq(3, 6)}, {seq(4, 1)}}},
		{"budget splits", 12, [][][]int32{{seq(1, 4)}, {seq(2, 4)}, {seq(3, 4)}, {seq(4, 4)}, {seq(5, 4)}}},
		{"long request spans batches", 8, [][][]int32{{seq(1, 2), seq(2, 2), seq(3, 2), seq(4, 2), seq(5, 2)}, {seq(6, 3)}}},
		{"over-long sequence runs alone", 4, [][][]int32{{seq(1, 9)}, {seq(2, 1), seq(3, 1)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newGated("a")
				e := newEngine(t, f, Options{MaxBatchTokens: tt.budget})
				// Occupy the batcher so that the requests below queue up together.
				blocker := make(chan error, 1)
				go func() { _, err := e.Submit(context.Background(), [][]int32{{0}}); blocker <- err }()
				waitEntered(t, f)

				var wg sync.WaitGroup
				total := 0
				for _, ids := range tt.requests {
					total += len(ids)
				}
				errs := make(chan error, len(tt.requests))
				for i, ids := range tt.requests {
					wg.Add(1)
					go func() {
						defer wg.Done()
						submitAndCheck(e, i, ids, errs)
					}()
				}
				waitDepth(t, e, total)
				close(f.gate)
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Error(err)
				}
				if err := <-blocker; err != nil {
					t.Fatal(err)
				}

				batches := f.seen()[1:]
				got := 0
				for _, b := range batches {
					longest := 0
					for _, s := range b {
						longest = max(longest, len(s))
					}
					if len(b) > 1 && longest*len(b) > tt.budget {
						t.Errorf("batch %v costs %d padded tokens, budget %d", b, longest*len(b), tt.budget)
					}
					got += len(b)
				}
				if got != total {
					t.Errorf("computed %d sequences, want %d", got, total)
				}
				// Minimal number of batches for a greedy FIFO packer: no batch could have taken the
				// next sequence.
				for i := 0; i+1 < len(batches); i++ {
					b, next := batches[i], batches[i+1][0]
					longest := len(next)
					for _, s := range b {
						longest = max(longest, len(s))
					}
					if longest*(len(b)+1) <= tt.budget {
						t.Errorf("batch %d (%v) had room for %v", i, b, next)
					}
				}
			})
		})
	}
}

// The queue is bounded in what costs compute: sequences and tokens waiting for a pass, however
// they are split into requests. A request that would take either past its bound is refused at
// once, and refusing it leaves the counts as they were.
func TestOverloadedWhenQueueFull(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		waiting [][]int32 // the request queued behind the running pass
		refused [][]int32
		fits    [][]int32 // admitted beside waiting
	}{
		{"sequences", Options{MaxQueueSequences: 3},
			[][]int32{seq(2, 1), seq(2, 1)}, [][]int32{seq(3, 1), seq(3, 1)}, [][]int32{seq(4, 1)}},
		{"tokens", Options{MaxBatchTokens: 64, MaxQueueTokens: 100},
			[][]int32{seq(2, 60)}, [][]int32{seq(3, 41)}, [][]int32{seq(4, 40)}},
		{"tokens of many short sequences", Options{MaxBatchTokens: 64, MaxQueueTokens: 10},
			[][]int32{seq(2, 2), seq(2, 2), seq(2, 2), seq(2, 2)}, [][]int32{seq(3, 3)}, [][]int32{seq(4, 1), seq(4, 1)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newGated("a")
				e := newEngine(t, f, tc.opts)
				var wg sync.WaitGroup
				submit := func(ids [][]int32) {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if _, err := e.Submit(context.Background(), ids); err != nil {
							t.Error(err)
						}
					}()
				}
				submit([][]int32{{1}})
				waitEntered(t, f) // the batcher holds request 1; the queue is empty
				submit(tc.waiting)
				waitDepth(t, e, len(tc.waiting))
				before := e.Backlog()
				if _, err := e.Submit(context.Background(), tc.refused); !errors.Is(err, ErrOverloaded) {
					t.Fatalf("submit over the bound: %v, want ErrOverloaded", err)
				}
				if after := e.Backlog(); after != before {
					t.Errorf("a refused request changed the backlog from %+v to %+v", before, after)
				}
				submit(tc.fits)
				waitDepth(t, e, len(tc.waiting)+len(tc.fits))
				if !e.Full() && e.Backlog().Sequences == tc.opts.MaxQueueSequences {
					t.Error("Full is false at the sequence bound")
				}
				close(f.gate)
				wg.Wait()
				if b := e.Backlog(); b.Sequences != 0 || b.Tokens != 0 {
					t.Errorf("backlog %+v after every request finished", b)
				}
			})
		})
	}
}

// An empty queue admits a request larger than both bounds (it runs, spread over batches), so a
// request the server accepted can always be computed; behind it nothing more is admitted.
func TestEmptyQueueAdmitsARequestLargerThanTheBounds(t *testing.T) {
	f := newGated("a")
	e := newEngine(t, f, Options{MaxBatchTokens: 8, MaxQueueSequences: 2, MaxQueueTokens: 8})
	big := [][]int32{seq(1, 8), seq(1, 8), seq(1, 8)}
	done := make(chan error, 1)
	go func() { _, err := e.Submit(context.Background(), big); done <- err }()
	waitEntered(t, f)
	if !e.Full() {
		t.Errorf("Full is false with backlog %+v over the bounds", e.Backlog())
	}
	if _, err := e.Submit(context.Background(), [][]int32{{2}}); !errors.Is(err, ErrOverloaded) {
		t.Errorf("submit behind the large request: %v, want ErrOverloaded", err)
	}
	close(f.gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(f.seen()); n != 3 {
		t.Errorf("the large request ran in %d batches, want 3", n)
	}
}

// A reservation holds room before the request is tokenized: it counts against the bound, so
// a second reservation or request that would not fit is refused; its holder is admitted
// whatever its real size; and released room comes back.
func TestReservation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newGated("a")
		e := newEngine(t, f, Options{MaxBatchTokens: 64, MaxQueueTokens: 100})
		first := make(chan error, 1)
		go func() { _, err := e.Submit(context.Background(), [][]int32{{1}}); first <- err }()
		waitEntered(t, f)

		r1, err := e.Reserve(60) // the queue is empty: any estimate fits
		if err != nil {
			t.Fatal(err)
		}
		if b := e.Backlog(); b.Tokens != 60 {
			t.Errorf("backlog %+v, want the 60 reserved tokens", b)
		}
		if _, err := e.Reserve(41); !errors.Is(err, ErrOverloaded) {
			t.Errorf("reserve past the bound: %v, want ErrOverloaded", err)
		}
		if _, err := e.Submit(context.Background(), [][]int32{seq(9, 41)}); !errors.Is(err, ErrOverloaded) {
			t.Errorf("submit past the bound: %v, want ErrOverloaded", err)
		}
		r2, err := e.Reserve(40)
		if err != nil {
			t.Fatal(err)
		}
		r2.Release()
		r2.Release() // idempotent
		if b := e.Backlog(); b.Tokens != 60 {
			t.Errorf("backlog %+v after a release, want 60", b)
		}
		// Its holder is admitted with more tokens than it estimated, past the bound.
		done := make(chan error, 1)
		go func() { _, err := r1.Submit(context.Background(), [][]int32{seq(2, 64), seq(2, 64)}); done <- err }()
		waitDepth(t, e, 2)
		if b := e.Backlog(); b.Tokens != 128 {
			t.Errorf("backlog %+v, want the real 128 tokens in place of the estimate", b)
		}
		if _, err := r1.Submit(context.Background(), [][]int32{{3}}); err == nil {
			t.Error("a reservation was used twice")
		}
		r1.Release() // after Submit: nothing
		close(f.gate)
		for _, ch := range []chan error{first, done} {
			if err := <-ch; err != nil {
				t.Error(err)
			}
		}
		if b := e.Backlog(); b.Tokens != 0 || b.Sequences != 0 {
			t.Errorf("backlog %+v at the end", b)
		}
	})
}

// A request that waits longer than MaxQueueWait for its first pass is refused with
// ErrQueueTimeout, at once and without costing compute; one already in a batch is served.
func TestMaxQueueWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newGated("a")
		e := newEngine(t, f, Options{MaxQueueWait: 50 * time.Millisecond})
		first := make(chan error, 1)
		go func() { _, err := e.Submit(context.Background(), [][]int32{{1}}); first <- err }()
		waitEntered(t, f) // request 1 is in a batch: its wait is over
		start := time.Now()
		if _, err := e.Submit(context.Background(), [][]int32{seq(77, 3)}); !errors.Is(err, ErrQueueTimeout) {
			t.Fatalf("queued submit: %v, want ErrQueueTimeout", err)
		}
		if waited := time.Since(start); waited > 5*time.Second {
			t.Errorf("refused after %v, not when its wait ran out", waited)
		}
		if b := e.Backlog(); b.Sequences != 0 || b.Tokens != 0 {
			t.Errorf("the refused request still counts in the backlog: %+v", b)
		}
		time.Sleep(60 * time.Millisecond) // request 1 is now older than MaxQueueWait
		close(f.gate)
		if err := <-first; err != nil {
			t.Fatalf("the request already in a batch: %v", err)
		}
		res, err := e.Submit(context.Background(), [][]int32{seq(5, 2)})
		if err != nil {
			t.Fatal(err)
		}
		checkRows(t, res, [][]int32{seq(5, 2)})
		for _, b := range f.seen() {
			if b[0][0] == 77 {
				t.Fatalf("the refused request reached the forwarder in batch %v", b)
			}
		}
	})
}

// Abort answers everything at once: the queued request fails with ErrClosed without running,
// the running pass is cancelled and its request fails with ErrClosed too, and nothing more is
// admitted.
func TestAbortFailsQueuedAndRunningRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newGated("a")
		e := newEngine(t, f, Options{})
		running, queued := make(chan error, 1), make(chan error, 1)
		go func() { _, err := e.Submit(context.Background(), [][]int32{{1}}); running <- err }()
		waitEntered(t, f)
		go func() { _, err := e.Submit(context.Background(), [][]int32{seq(77, 2)}); queued <- err }()
		waitDepth(t, e, 1)
		e.Abort()
		for name, ch := range map[string]chan error{"running": running, "queued": queued} {
			if err := <-ch; !errors.Is(err, ErrClosed) {
				t.Errorf("%s request: %v, want ErrClosed", name, err)
			}
		}
		if _, err := e.Submit(context.Background(), [][]int32{{2}}); !errors.Is(err, ErrClosed) {
			t.Errorf("submit after Abort: %v, want ErrClosed", err)
		}
		if n := len(f.seen()); n != 1 {
			t.Errorf("%d passes ran, want only the first", n)
		}
	})
}

// Backlog's drain estimate follows the measured throughput: the tokens waiting divided by the
// tokens per second passes computed.
func TestBacklogDrainEstimate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeForwarder{name: "a", delay: 20 * time.Millisecond}
		e := newEngine(t, f, Options{})
		if d := e.Backlog().Drain; d != 0 {
			t.Errorf("drain %v before any pass, want 0 (unknown)", d)
		}
		for range 3 {
			if _, err := e.Submit(context.Background(), [][]int32{seq(1, 100)}); err != nil {
				t.Fatal(err)
			}
		}
		rate := e.rate.tokensPerSecond()
		// 100 tokens take at least the forwarder's 20 ms.
		if rate <= 0 || rate > 100/0.020 {
			t.Fatalf("throughput %.0f tokens/s, want in (0, 5000]", rate)
		}
		f.gate, f.entered = make(chan struct{}), make(chan struct{}, 10)
		go func() { _, _ = e.Submit(context.Background(), [][]int32{{1}}) }()
		waitEntered(t, f)
		go func() { _, _ = e.Submit(context.Background(), [][]int32{seq(2, 500)}) }()
		waitDepth(t, e, 1)
		b := e.Backlog()
		want := time.Duration(500 / rate * float64(time.Second))
		if b.Tokens != 500 || b.Drain < want*9/10 || b.Drain > want*11/10 {
			t.Errorf("backlog %+v, want 500 tokens draining in about %v", b, want)
		}
		close(f.gate)
	})
}

func TestCancelledRequestCostsNoCompute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newGated("a")
		e := newEngine(t, f, Options{})
		first := make(chan error, 1)
		go func() { _, err := e.Submit(context.Background(), [][]int32{{1}}); first <- err }()
		waitEntered(t, f)

		ctx, cancel := context.WithCancel(context.Background())
		cancelled := make(chan error, 1)
		go func() { _, err := e.Submit(ctx, [][]int32{seq(77, 3)}); cancelled <- err }()
		waitDepth(t, e, 1)
		cancel()
		if err := <-cancelled; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled submit: %v, want context.Canceled", err)
		}
		// Its place in the queue is free at once, not when the batcher next looks.
		if b := e.Backlog(); b.Sequences != 0 || b.Tokens != 0 {
			t.Errorf("backlog %+v after the only queued request was cancelled", b)
		}
		close(f.gate)
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		res, err := e.Submit(context.Background(), [][]int32{seq(5, 2)})
		if err != nil {
			t.Fatal(err)
		}
		checkRows(t, res, [][]int32{seq(5, 2)})
		for _, b := range f.seen() {
			for _, s := range b {
				if s[0] == 77 {
					t.Fatalf("the cancelled request reached the forwarder in batch %v", b)
				}
			}
		}
		if e.QueueDepth() != 0 {
			t.Errorf("queue depth %d after drain, want 0", e.QueueDepth())
		}
	})
}

func TestSwapPinsRequestsToTheirForwarder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newGated("a")
		b := &fakeForwarder{name: "b"}
		e := newEngine(t, a, Options{})
		first := make(chan error, 1)
		go func() { _, err := e.Submit(context.Background(), [][]int32{{1}}); first <- err }()
		waitEntered(t, a)

		type got struct {
			res Result[*fakeForwarder, fakeOut]
			err error
		}
		onA, onB := make(chan got, 1), make(chan got, 1)
		go func() { r, err := e.Submit(context.Background(), [][]int32{seq(2, 2)}); onA <- got{r, err} }()
		waitDepth(t, e, 1)
		if prev := e.Swap(b); prev != a {
			t.Fatalf("Swap returned %s, want a", prev.name)
		}
		if e.Current() != b {
			t.Fatal("Current is not the swapped-in forwarder")
		}
		go func() { r, err := e.Submit(context.Background(), [][]int32{seq(3, 2)}); onB <- got{r, err} }()
		waitDepth(t, e, 2)
		close(a.gate)
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		ra, rb := <-onA, <-onB
		if ra.err != nil || rb.err != nil {
			t.Fatal(ra.err, rb.err)
		}
		if ra.res.Forwarder != a || ra.res.Rows[0].Output.by != "a" {
			t.Errorf("request admitted before Swap ran on %s", ra.res.Rows[0].Output.by)
		}
		if rb.res.Forwarder != b || rb.res.Rows[0].Output.by != "b" {
			t.Errorf("request admitted after Swap ran on %s", rb.res.Rows[0].Output.by)
		}
		for _, batch := range a.seen() {
			for _, s := range batch {
				if s[0] == 3 {
					t.Error("forwarder a computed a request pinned to b")
				}
			}
		}
	})
}

func TestForwardErrorsAndPanicsReachTheCaller(t *testing.T) {
	tests := []struct {
		name string
		f    *fakeForwarder
	}{
		{"error", &fakeForwarder{err: errors.New("kernel failed")}},
		{"panic", &fakeForwarder{panics: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t, tt.f, Options{})
			if _, err := e.Submit(context.Background(), [][]int32{{1}}); err == nil {
				t.Fatal("Submit succeeded")
			}
			// The engine survives and keeps answering.
			if _, err := e.Submit(context.Background(), [][]int32{{2}}); err == nil {
				t.Fatal("second Submit succeeded")
			}
		})
	}
}

func TestCloseDrainsQueuedRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newGated("a")
		e, err := New[*fakeForwarder, fakeOut](f, Options{MaxBatchTokens: 1})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		submit := func(tag int32) {
			defer wg.Done()
			res, err := e.Submit(context.Background(), [][]int32{{tag}})
			if err == nil && res.Rows[0].Output.ids[res.Rows[0].Index][0] != tag {
				err = fmt.Errorf("request %d got the wrong row", tag)
			}
			errs <- err
		}
		wg.Add(1)
		go submit(1)
		waitEntered(t, f)
		wg.Add(3)
		for tag := int32(2); tag <= 4; tag++ {
			go submit(tag)
		}
		waitDepth(t, e, 3)

		closed := make(chan error, 1)
		go func() { closed <- e.Close(context.Background()) }()
		deadline := time.Now().Add(5 * time.Second)
		for {
			// A probe admitted before Close flips the switch times out and is dropped uncomputed.
			ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
			_, err := e.Submit(ctx, [][]int32{{9}})
			cancel()
			if errors.Is(err, ErrClosed) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("Submit kept admitting after Close")
			}
			time.Sleep(time.Millisecond)
		}
		close(f.gate)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		if err := <-closed; err != nil {
			t.Fatalf("Close: %v", err)
		}
		if n := len(f.seen()); n != 4 {
			t.Errorf("ran %d batches, want 4 (budget 1 → one sequence each)", n)
		}
	})
}

func TestCloseGivesUpWhenItsContextEnds(t *testing.T) {
	f := newGated("a")
	e, err := New[*fakeForwarder, fakeOut](f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	first := make(chan error, 1)
	go func() { _, err := e.Submit(context.Background(), [][]int32{{1}}); first <- err }()
	waitEntered(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := e.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close: %v, want DeadlineExceeded", err)
	}
	if err := <-first; err == nil {
		t.Fatal("the in-flight request succeeded although its forward pass was cancelled")
	}
}

type countingObserver struct {
	mu    sync.Mutex
	stats []BatchStats
}

func (o *countingObserver) BatchDone(s BatchStats) {
	o.mu.Lock()
	o.stats = append(o.stats, s)
	o.mu.Unlock()
}

func TestObserverSeesEveryBatch(t *testing.T) {
	obs := &countingObserver{}
	f := &fakeForwarder{name: "a"}
	e := newEngine(t, f, Options{Observer: obs})
	res, err := e.Submit(context.Background(), [][]int32{seq(1, 2), seq(2, 5)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Queue < 0 || res.Inference <= 0 {
		t.Errorf("timings queue=%v inference=%v", res.Queue, res.Inference)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.stats) != 1 {
		t.Fatalf("observer saw %d batches, want 1", len(obs.stats))
	}
	s := obs.stats[0]
	if s.Sequences != 2 || s.Tokens != 7 || s.PaddedTokens != 10 || s.Err != nil {
		t.Errorf("stats %+v, want 2 sequences, 7 tokens, 10 padded", s)
	}
}

// With Concurrency 2, two forward passes run at once, and a request spread over batches that
// run concurrently still gets every row in order.
func TestConcurrentForwardPasses(t *testing.T) {
	f := newGated("a")
	e := newEngine(t, f, Options{Concurrency: 2, MaxBatchTokens: 4})
	ids := [][]int32{seq(1, 4), seq(2, 4), seq(3, 4)} // one sequence per batch
	got := make(chan error, 1)
	go func() {
		res, err := e.Submit(context.Background(), ids)
		if err == nil {
			for i, row := range res.Rows {
				if !slices.Equal(row.Output.ids[row.Index], ids[i]) {
					err = fmt.Errorf("row %d = %v, want %v", i, row.Output.ids[row.Index], ids[i])
				}
			}
		}
		got <- err
	}()
	waitEntered(t, f)
	waitEntered(t, f) // a second pass started while the first is still blocked
	select {
	case <-f.entered:
		t.Fatal("a third pass started although Concurrency is 2")
	case <-time.After(20 * time.Millisecond):
	}
	close(f.gate)
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if n := len(f.seen()); n != 3 {
		t.Errorf("%d passes, want 3", n)
	}
}
