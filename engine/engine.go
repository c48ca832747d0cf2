package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Forwarder runs the encoder on a batch of unpadded token-id sequences and returns the batch's
// output. *encoder.Encoder satisfies Forwarder[*encoder.Output].
type Forwarder[O any] interface {
	Forward(ctx context.Context, ids [][]int32) (O, error)
}

// ErrOverloaded is returned by Submit when admitting the request would take the queue past
// its bound (Options.MaxQueueSequences, Options.MaxQueueTokens); the HTTP layer answers 429.
var ErrOverloaded = errors.New("engine: queue is full")

// ErrQueueTimeout is returned by Submit when the request waited Options.MaxQueueWait without
// reaching a forward pass: it is refused rather than served late. The HTTP layer answers 429.
var ErrQueueTimeout = errors.New("engine: waited too long in the queue")

// ErrClosed is returned by Submit after Close; the HTTP layer answers 503.
var ErrClosed = errors.New("engine: closed")

// ErrEmpty is returned by Submit for a request without sequences.
var ErrEmpty = errors.New("engine: request has no sequences")

// Default option values.
const (
	DefaultMaxBatchTokens    = 16384
	DefaultMaxQueueSequences = 512
	// DefaultQueueBatches is MaxQueueTokens' default in forward passes: a request admitted
	// behind a full queue waits about this many batch times.
	DefaultQueueBatches = 4
)

// Options configure an Engine. Zero values select the defaults.
type Options struct {
	// MaxBatchTokens is the padded token budget of one forward pass: longest × count.
	// A single sequence longer than the budget still runs, alone.
	MaxBatchTokens int
	// MaxQueueSequences and MaxQueueTokens bound the work admitted and not yet in a forward
	// pass, in sequences and in tokens: what costs compute, not requests. Submit refuses a
	// request that would take either past its bound with ErrOverloaded, so a full queue means
	// a bounded wait (about MaxQueueTokens / MaxBatchTokens batch times) for what it admits.
	// An empty queue admits any request, so one larger than the bounds still runs, alone.
	// Defaults: DefaultMaxQueueSequences, and DefaultQueueBatches × MaxBatchTokens.
	MaxQueueSequences int
	MaxQueueTokens    int
	// MaxQueueWait, when positive, is how long a request may wait for its first forward pass;
	// past it, Submit fails with ErrQueueTimeout instead of serving it late.
	MaxQueueWait time.Duration
	// Concurrency is how many forward passes may run at once (default 1). Give the forwarder
	// as many workers; the batcher forms the next batch only when a pass may start, so waiting
	// requests keep coalescing while every pass is busy.
	Concurrency int
	// BatchWait is how long the batcher, once a pass may start, waits for more requests before
	// it forms the batch (0: it forms the batch at once). Closed-loop clients answered by the
	// same pass send their next requests within milliseconds of each other; without a wait the
	// first of them runs alone (when the batcher was idle) or the clients split into two
	// cohorts that alternate in half-size batches (when it was busy). The wait ends as soon as
	// what is pending fills the budget, so a backlog never waits.
	BatchWait time.Duration
	// Observer receives per-batch statistics (may be nil).
	Observer Observer
	// Logger logs forwarder failures (nil: discarded).
	Logger *slog.Logger
}

// Observer is told about every forward pass; the server turns this into metrics.
type Observer interface {
	BatchDone(BatchStats)
}

// BatchStats describe one forward pass.
type BatchStats struct {
	Sequences    int           // rows in the batch
	PaddedTokens int           // longest × Sequences: what the batch costs
	Tokens       int           // real tokens in the batch
	Duration     time.Duration // wall time of Forward
	Err          error         // Forward's error, if any
}

// Row locates one input sequence of a request in the output of the batch that computed it.
type Row[O any] struct {
	Output O   // the whole batch's output (shared with the request's batchmates; read only)
	Index  int // this sequence's position in Output
}

// Result is what Submit returns: one Row per submitted sequence, in order.
type Result[F any, O any] struct {
	// Forwarder is the forwarder every row was computed with (the one pinned at admission).
	Forwarder F
	Rows      []Row[O]
	// Queue is the time from admission until the request's first sequence entered a batch.
	Queue time.Duration
	// Inference is the summed wall time of the forward passes that carried the request.
	Inference time.Duration
}

// Engine coalesces concurrent requests into batched forward passes. Create it with New; it is safe
// for concurrent use.
type Engine[F Forwarder[O], O any] struct {
	opts  Options
	cur   atomic.Pointer[pinned[F]]
	queue chan *request[F, O]

	mu     sync.Mutex // guards closed against the close of queue, and admission against the bounds
	closed bool
	// Sequences and tokens admitted and not yet in a batch (nor dropped). Written under mu on
	// admission and by release; read without it by QueueDepth, Full and Backlog.
	depth, tokens atomic.Int64

	rate throughput // tokens per second of forward passes, for Backlog

	ctx    context.Context // passed to Forward; cancelled when Close gives up waiting
	cancel context.CancelFunc
	done   chan struct{} // closed when the batcher has exited
}

// pinned wraps a forwarder so that each Swap yields a distinct identity to pin requests to.
type pinned[F any] struct{ f F }

// New starts an engine around f. Call Close to stop it.
func New[F Forwarder[O], O any](f F, opts Options) (*Engine[F, O], error) {
	if opts.MaxBatchTokens == 0 {
		opts.MaxBatchTokens = DefaultMaxBatchTokens
	}
	if opts.MaxQueueSequences == 0 {
		opts.MaxQueueSequences = DefaultMaxQueueSequences
	}
	if opts.MaxQueueTokens == 0 {
		opts.MaxQueueTokens = DefaultQueueBatches * opts.MaxBatchTokens
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = 1
	}
	if opts.BatchWait < 0 || opts.MaxQueueWait < 0 {
		return nil, fmt.Errorf("engine: BatchWait (%v) and MaxQueueWait (%v) must not be negative", opts.BatchWait, opts.MaxQueueWait)
	}
	if opts.MaxBatchTokens < 1 || opts.MaxQueueSequences < 1 || opts.MaxQueueTokens < 1 || opts.Concurrency < 1 {
		return nil, fmt.Errorf("engine: MaxBatchTokens (%d), MaxQueueSequences (%d), MaxQueueTokens (%d) and Concurrency (%d) must be positive",
			opts.MaxBatchTokens, opts.MaxQueueSequences, opts.MaxQueueTokens, opts.Concurrency)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Engine[F, O]{
		opts: opts,
		// Every request holds at least one sequence, so the sequence bound bounds the channel.
		queue:  make(chan *request[F, O], opts.MaxQueueSequences),
		ctx:    ctx,
		cancel: cancel,
		done:   make(chan struct{}),
	}
	e.cur.Store(&pinned[F]{f: f})
	go e.loop()
	return e, nil
}

// Current returns the forwarder that newly admitted requests are pinned to.
func (e *Engine[F, O]) Current() F { return e.cur.Load().f }

// Swap makes f the forwarder for requests admitted from now on and returns the previous one.
// Requests already admitted finish on the forwarder they were pinned to.
func (e *Engine[F, O]) Swap(f F) F { return e.cur.Swap(&pinned[F]{f: f}).f }

// QueueDepth is the number of admitted sequences that have not yet entered a batch.
func (e *Engine[F, O]) QueueDepth() int { return int(e.depth.Load()) }

// Full reports whether the queue is at one of its bounds, so that nothing more would be
// admitted now. It is the cheap check a front end makes before it parses and tokenizes a
// request: refusing then costs almost nothing, which keeps retrying clients from burning the
// CPU the forward passes need.
func (e *Engine[F, O]) Full() bool {
	return e.depth.Load() >= int64(e.opts.MaxQueueSequences) || e.tokens.Load() >= int64(e.opts.MaxQueueTokens)
}

// Backlog is the work waiting for a forward pass and how long the engine needs for it.
type Backlog struct {
	Sequences, Tokens int
	// Drain estimates the time to compute what waits, from the recent forward passes'
	// throughput; zero before the first pass.
	Drain time.Duration
}

// Backlog reports the queue now; the HTTP layer turns Drain into Retry-After.
func (e *Engine[F, O]) Backlog() Backlog {
	b := Backlog{Sequences: int(e.depth.Load()), Tokens: int(e.tokens.Load())}
	if r := e.rate.tokensPerSecond(); r > 0 {
		b.Drain = time.Duration(float64(b.Tokens) / (r * float64(e.opts.Concurrency)) * float64(time.Second))
	}
	return b
}

// MaxBatchTokens is the padded token budget of one forward pass.
func (e *Engine[F, O]) MaxBatchTokens() int { return e.opts.MaxBatchTokens }

// Submit queues one request of token-id sequences and waits for its rows. It fails at once with
// ErrOverloaded when the queue has no room for it and ErrClosed after Close. It returns
// ctx.Err() when ctx ends first, and ErrQueueTimeout when MaxQueueWait passes before the
// request reaches a forward pass; either way a request not yet in a batch is dropped at once
// and costs no compute. The ids slices must not be modified until Submit returns.
func (e *Engine[F, O]) Submit(ctx context.Context, ids [][]int32) (Result[F, O], error) {
	return e.submit(ctx, ids, nil)
}

func (e *Engine[F, O]) submit(ctx context.Context, ids [][]int32, res *Reservation[F, O]) (Result[F, O], error) {
	var zero Result[F, O]
	if len(ids) == 0 {
		return zero, ErrEmpty
	}
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	tokens := 0
	for _, s := range ids {
		tokens += len(s)
	}
	r := &request[F, O]{
		ctx:        ctx,
		ids:        ids,
		pin:        e.cur.Load(),
		admitted:   time.Now(),
		rows:       make([]Row[O], len(ids)),
		remaining:  len(ids),
		placed:     make([]bool, len(ids)),
		waiting:    len(ids),
		waitSeqs:   len(ids),
		waitTokens: tokens,
		done:       make(chan outcome[F, O], 1),
	}
	if err := e.enqueue(r, res); err != nil {
		return zero, err
	}
	var expired <-chan time.Time
	if e.opts.MaxQueueWait > 0 {
		t := time.NewTimer(e.opts.MaxQueueWait)
		defer t.Stop()
		expired = t.C
	}
	for {
		select {
		case out := <-r.done:
			return out.res, out.err
		case <-ctx.Done():
			e.abandon(r, ctx.Err())
			return zero, ctx.Err()
		case <-expired:
			expired = nil
			if e.abandon(r, fmt.Errorf("%w: %v without reaching a forward pass", ErrQueueTimeout, e.opts.MaxQueueWait)) {
				return zero, (<-r.done).err
			}
			// Already in a batch: it is being served, so wait for it.
		}
	}
}

// enqueue admits r if the queue has room for it (an empty queue always has), or
// unconditionally against a reservation, whose held tokens r's real ones replace.
func (e *Engine[F, O]) enqueue(r *request[F, O], res *Reservation[F, O]) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	seqs, toks := int64(r.waitSeqs), int64(r.waitTokens) // read before the batcher owns r
	if res != nil {
		if !res.take() {
			return errors.New("engine: reservation already used or released")
		}
		e.tokens.Add(-int64(res.tokens))
	} else if d, q := e.depth.Load(), e.tokens.Load(); (d > 0 || q > 0) && // an empty queue admits anything
		(d+seqs > int64(e.opts.MaxQueueSequences) || q+toks > int64(e.opts.MaxQueueTokens)) {
		return ErrOverloaded
	}
	// Count first: once sent, the batcher may place (and uncount) r's sequences at once.
	e.depth.Add(seqs)
	e.tokens.Add(toks)
	select {
	case e.queue <- r:
		return nil
	default: // only when the queue holds MaxQueueSequences requests of one sequence each
		e.depth.Add(-seqs)
		e.tokens.Add(-toks)
		return ErrOverloaded
	}
}

// Reservation is room held in the queue for a request not yet tokenized: a front end
// reserves on a cheap estimate of the request's tokens before it parses and tokenizes, so
// that a full queue refuses at almost no cost, and concurrent requests cannot all pass that
// check at once and then all be refused after the work. Submit through the reservation once
// the ids are known (its real size then replaces the estimate, admitted whatever it is), or
// Release it. Reserved tokens count in Backlog and against MaxQueueTokens.
type Reservation[F Forwarder[O], O any] struct {
	e      *Engine[F, O]
	tokens int
	used   atomic.Bool
}

// Reserve holds room for about tokens tokens, or fails with ErrOverloaded when the queue
// has not that much room (an empty queue has room for any estimate) and ErrClosed after
// Close.
func (e *Engine[F, O]) Reserve(tokens int) (*Reservation[F, O], error) {
	tokens = max(tokens, 0)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	if q := e.tokens.Load(); e.depth.Load() >= int64(e.opts.MaxQueueSequences) || (q > 0 && q+int64(tokens) > int64(e.opts.MaxQueueTokens)) {
		return nil, ErrOverloaded
	}
	e.tokens.Add(int64(tokens))
	return &Reservation[F, O]{e: e, tokens: tokens}, nil
}

// Submit submits ids against the reservation: see Engine.Submit. It may be called once.
func (r *Reservation[F, O]) Submit(ctx context.Context, ids [][]int32) (Result[F, O], error) {
	return r.e.submit(ctx, ids, r)
}

// Release gives the room back when the request will not be submitted; after Submit it does
// nothing, so a caller may defer it.
func (r *Reservation[F, O]) Release() {
	if r.take() {
		r.e.tokens.Add(-int64(r.tokens))
	}
}

// take marks the reservation used, reporting whether it was still unused.
func (r *Reservation[F, O]) take() bool { return r.used.CompareAndSwap(false, true) }

// abandon fails r with err if none of its sequences is in a batch yet, and releases its place
// in the queue at once (the batcher drops it when it next looks). It reports whether it did.
func (e *Engine[F, O]) abandon(r *request[F, O], err error) bool {
	r.mu.Lock()
	if r.started || r.finished {
		r.mu.Unlock()
		return false
	}
	r.mu.Unlock()
	e.finish(r, err) // finished now: place never starts it (see place)
	e.release(r)
	return true
}

// release takes r's sequences that never reached a batch out of the queue's counts. It runs
// once per request, whoever drops it first.
func (e *Engine[F, O]) release(r *request[F, O]) {
	r.mu.Lock()
	seqs, toks := r.waitSeqs, r.waitTokens
	r.waitSeqs, r.waitTokens = 0, 0
	r.mu.Unlock()
	e.depth.Add(-int64(seqs))
	e.tokens.Add(-int64(toks))
}

// Close stops admission, lets the batcher finish every queued request and returns when it has.
// If ctx ends first, the running forward pass is cancelled, the remaining requests fail, and
// ctx.Err() is returned once the batcher has exited. Close is idempotent.
func (e *Engine[F, O]) Close(ctx context.Context) error {
	e.mu.Lock()
	if !e.closed {
		e.closed = true
		close(e.queue)
	}
	e.mu.Unlock()
	return e.wait(ctx)
}

// Abort stops admission and fails every request not yet in a batch with ErrClosed, and the
// forward passes running with it too; it returns once the batcher has exited. A server
// whose shutdown grace is running out calls it, so that what cannot be computed in time is
// still answered. Abort after Close is allowed (it shortens the drain).
func (e *Engine[F, O]) Abort() {
	e.mu.Lock()
	if !e.closed {
		e.closed = true
		close(e.queue)
	}
	e.mu.Unlock()
	e.cancel()
	<-e.done
}

// wait returns when the batcher has exited, cancelling the running passes if ctx ends first.
func (e *Engine[F, O]) wait(ctx context.Context) error {
	select {
	case <-e.done:
		return nil
	case <-ctx.Done():
		e.cancel()
		<-e.done
		return ctx.Err()
	}
}
