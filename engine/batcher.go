package engine

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// request is one Submit call as the batcher sees it.
type request[F any, O any] struct {
	ctx      context.Context
	ids      [][]int32
	pin      *pinned[F]
	admitted time.Time

	// Owned by the batcher goroutine.
	placed  []bool // placed[i]: sequence i is in a batch
	waiting int    // sequences not yet in a batch

	// Guarded by mu: a request spread over several batches is completed by whichever forward
	// pass finishes last, and passes may run concurrently; Submit may abandon it meanwhile.
	mu         sync.Mutex
	started    bool // a sequence is in a batch: the request can no longer be abandoned
	waitSeqs   int  // its share of the engine's queue counts, released exactly once
	waitTokens int
	queued     time.Duration
	inference  time.Duration
	remaining  int // sequences not yet computed
	rows       []Row[O]
	finished   bool

	done chan outcome[F, O] // buffered(1): written exactly once
}

type outcome[F any, O any] struct {
	res Result[F, O]
	err error
}

// slot is one row of a batch under construction: sequence seq of request req.
type slot[F any, O any] struct {
	req *request[F, O]
	seq int
}

// batch is a set of sequences that will run in one forward pass.
type batch[F any, O any] struct {
	pin     *pinned[F]
	slots   []slot[F, O]
	ids     [][]int32
	longest int
	tokens  int
}

// fits reports whether a sequence of n tokens can join without exceeding the budget.
// The first sequence always fits, so an over-long sequence runs alone instead of blocking.
func (b *batch[F, O]) fits(n, budget int) bool {
	if len(b.ids) == 0 {
		return true
	}
	return max(b.longest, n)*(len(b.ids)+1) <= budget
}

func (b *batch[F, O]) add(r *request[F, O], seq int) {
	b.slots = append(b.slots, slot[F, O]{req: r, seq: seq})
	b.ids = append(b.ids, r.ids[seq])
	b.longest = max(b.longest, len(r.ids[seq]))
	b.tokens += len(r.ids[seq])
}

// loop is the batcher goroutine: once a forward pass may start (at most Concurrency run at
// once), it builds a batch from the queue and runs it in its own goroutine; it repeats until the
// queue is closed and drained, then waits for the passes still running.
func (e *Engine[F, O]) loop() {
	var running sync.WaitGroup
	defer func() {
		running.Wait()
		close(e.done)
	}()
	slots := make(chan struct{}, e.opts.Concurrency)
	var pending []*request[F, O] // admitted requests with sequences not yet in a batch, FIFO
	for {
		slots <- struct{}{} // wait for a free slot before forming a batch, so requests keep coalescing
		if len(pending) == 0 {
			r, ok := <-e.queue // block for work
			if !ok {
				return
			}
			pending = append(pending, r)
		}
		if e.opts.BatchWait > 0 {
			pending = e.linger(pending)
		}
		b := &batch[F, O]{}
		pending = e.fill(b, pending)
		if len(b.ids) == 0 {
			<-slots
			continue
		}
		running.Add(1)
		go func() {
			defer running.Done()
			defer func() { <-slots }()
			e.run(b)
		}()
	}
}

// linger collects requests arriving within BatchWait before a batch is formed, stopping early
// when what is pending would fill the token budget (so a backlog never waits).
func (e *Engine[F, O]) linger(pending []*request[F, O]) []*request[F, O] {
	longest, count := 0, 0
	grow := func(r *request[F, O]) bool {
		for i, s := range r.ids {
			if !r.placed[i] {
				longest = max(longest, len(s))
				count++
			}
		}
		return longest*count >= e.opts.MaxBatchTokens
	}
	full := false
	for _, r := range pending {
		full = grow(r) || full
	}
	if full {
		return pending
	}
	timer := time.NewTimer(e.opts.BatchWait)
	defer timer.Stop()
	for {
		select {
		case r, ok := <-e.queue:
			if !ok {
				return pending
			}
			pending = append(pending, r)
			if grow(r) {
				return pending
			}
		case <-timer.C:
			return pending
		}
	}
}

// fill builds batch b from pending (after pulling every request waiting in the queue, without
// blocking) and returns what is still pending, in admission order.
//
// The oldest live request always goes first, as many of its sequences as the budget allows:
// every request eventually becomes the oldest, so none starves however many short requests keep
// arriving. The budget left is then filled from the other requests pinned to the same forwarder
// (a batch never mixes checkpoints), choosing sequences by length rather than arrival, so that
// batches hold sequences of similar length and pay less padding: first those no longer than the
// batch's longest, longest first (they add no padding beyond their own shortfall), then longer
// ones, shortest first. The batch is maximal: no sequence left pending would have fitted. When
// everything pending fits one batch, the batch is the same set FIFO packing gives.
func (e *Engine[F, O]) fill(b *batch[F, O], pending []*request[F, O]) []*request[F, O] {
	for more := true; more; {
		select {
		case r, ok := <-e.queue:
			if !ok {
				more = false
				break
			}
			pending = append(pending, r)
		default:
			more = false
		}
	}
	// Drop what must not cost compute, then take the oldest live request.
	live := pending[:0]
	for _, r := range pending {
		if err := e.dropReason(r); err != nil {
			e.finish(r, err)
			e.release(r)
			continue
		}
		live = append(live, r)
	}
	clear(pending[len(live):]) // the backing array must not keep dropped requests (and their encoders) alive
	pending = live
	if len(pending) == 0 {
		return pending
	}
	head := pending[0]
	b.pin = head.pin
	budget := e.opts.MaxBatchTokens
	for i := range head.ids {
		if !head.placed[i] && b.fits(len(head.ids[i]), budget) && !e.place(b, head, i) {
			break // abandoned meanwhile: fill drops it next time
		}
	}
	if head.waiting == 0 {
		e.fillByLength(b, pending[1:], budget)
	}
	// Keep the requests with sequences still waiting, in admission order.
	kept := pending[:0]
	for _, r := range pending {
		if r.waiting > 0 {
			kept = append(kept, r)
		}
	}
	clear(pending[len(kept):])
	return kept
}

// fillByLength adds sequences of the requests in rest that share b's forwarder, by length as
// fill describes, until no more fit.
func (e *Engine[F, O]) fillByLength(b *batch[F, O], rest []*request[F, O], budget int) {
	var cands []slot[F, O]
	for _, r := range rest {
		if r.pin != b.pin {
			continue
		}
		for i := range r.ids {
			if !r.placed[i] {
				cands = append(cands, slot[F, O]{req: r, seq: i})
			}
		}
	}
	if len(cands) == 0 {
		return
	}
	n := func(s slot[F, O]) int { return len(s.req.ids[s.seq]) }
	longest := b.longest
	slices.SortStableFunc(cands, func(x, y slot[F, O]) int {
		nx, ny := n(x), n(y)
		switch sx, sy := nx <= longest, ny <= longest; {
		case sx && sy:
			return ny - nx // no longer than the batch's longest: longest first
		case sx:
			return -1
		case sy:
			return 1
		default:
			return nx - ny // longer: shortest first
		}
	})
	for _, c := range cands {
		// Up to the longest, a row costs the longest whatever its length; beyond it, the cost
		// grows with the length. Either way, once one candidate does not fit, none after it does.
		if !b.fits(n(c), budget) {
			return
		}
		e.place(b, c.req, c.seq) // an abandoned candidate is skipped; fill drops it next time
	}
}

// place puts sequence i of r into b, unless r was abandoned (finished before any of its
// sequences reached a batch); it reports whether it did.
func (e *Engine[F, O]) place(b *batch[F, O], r *request[F, O], i int) bool {
	n := len(r.ids[i])
	r.mu.Lock()
	if r.finished && !r.started {
		r.mu.Unlock()
		return false
	}
	if !r.started {
		r.started = true
		r.queued = time.Since(r.admitted)
	}
	r.waitSeqs--
	r.waitTokens -= n
	r.mu.Unlock()
	b.add(r, i)
	r.placed[i] = true
	r.waiting--
	e.depth.Add(-1)
	e.tokens.Add(-int64(n))
	return true
}

// dropReason says why a request must not cost compute any more, or nil.
func (e *Engine[F, O]) dropReason(r *request[F, O]) error {
	r.mu.Lock()
	finished := r.finished
	r.mu.Unlock()
	if finished {
		return fmt.Errorf("engine: request already failed")
	}
	if err := r.ctx.Err(); err != nil {
		return err
	}
	if err := e.ctx.Err(); err != nil {
		return fmt.Errorf("%w: shut down before the request ran", ErrClosed)
	}
	return nil
}

// run executes one forward pass and hands every request its rows.
func (e *Engine[F, O]) run(b *batch[F, O]) {
	start := time.Now()
	out, err := e.forward(b)
	elapsed := time.Since(start)
	if err != nil && e.ctx.Err() != nil {
		err = fmt.Errorf("%w: the forward pass was cut short: %v", ErrClosed, err)
	}
	if err == nil {
		e.rate.observe(b.tokens, elapsed)
	}
	if e.opts.Observer != nil {
		e.opts.Observer.BatchDone(BatchStats{
			Sequences:    len(b.ids),
			PaddedTokens: b.longest * len(b.ids),
			Tokens:       b.tokens,
			Duration:     elapsed,
			Err:          err,
		})
	}
	if err != nil {
		e.opts.Logger.Error("forward pass failed", "sequences", len(b.ids), "err", err)
	}
	counted := make(map[*request[F, O]]bool, len(b.slots))
	for i, s := range b.slots {
		r := s.req
		if err != nil {
			e.finish(r, fmt.Errorf("engine: forward %d sequences: %w", len(b.ids), err))
			continue
		}
		r.mu.Lock()
		if r.finished {
			r.mu.Unlock()
			continue
		}
		if !counted[r] {
			counted[r] = true
			r.inference += elapsed // count each batch once per request
		}
		r.rows[s.seq] = Row[O]{Output: out, Index: i}
		r.remaining--
		complete := r.remaining == 0
		r.mu.Unlock()
		if complete {
			e.finish(r, nil)
		}
	}
}

// forward calls the pinned forwarder and turns a panic into an error, so that one bad batch
// cannot take the server down.
func (e *Engine[F, O]) forward(b *batch[F, O]) (out O, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("forwarder panicked: %v", p)
		}
	}()
	return b.pin.f.Forward(e.ctx, b.ids)
}

// finish delivers a request's outcome exactly once.
func (e *Engine[F, O]) finish(r *request[F, O], err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return
	}
	r.finished = true
	if err != nil {
		r.done <- outcome[F, O]{err: err}
		return
	}
	r.done <- outcome[F, O]{res: Result[F, O]{
		Forwarder: r.pin.f,
		Rows:      r.rows,
		Queue:     r.queued,
		Inference: r.inference,
	}}
}

// throughput is an exponentially weighted mean of the tokens per second that forward passes
// compute: passes observe it, Backlog reads it.
type throughput struct {
	mu  sync.Mutex
	tps float64
}

// observe folds one pass of tokens real tokens in d into the mean (a fifth of the weight
// goes to the newest pass, so the estimate follows a change of load within a few batches).
func (t *throughput) observe(tokens int, d time.Duration) {
	if d <= 0 || tokens <= 0 {
		return
	}
	v := float64(tokens) / d.Seconds()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tps == 0 {
		t.tps = v
		return
	}
	t.tps += 0.2 * (v - t.tps)
}

func (t *throughput) tokensPerSecond() float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tps
}
