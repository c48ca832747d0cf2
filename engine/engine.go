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
// output. *model.Encoder satisfies Forwarder[*model.Output].
type Forwarder[O any] interface {
	Forward(ctx context.Context, ids [][]int32) (O, error)
}

// ErrOverloaded is returned by Submit when the queue is full; the HTTP layer answers 429.
var ErrOverloaded = errors.New("engine: queue is full")

// ErrClosed is returned by Submit after Close; the HTTP layer answers 503.
var ErrClosed = errors.New("engine: closed")

// ErrEmpty is returned by Submit for a request without sequences.
var ErrEmpty = errors.New("engine: request has no sequences")

// Default option values.
const (
	DefaultMaxBatchTokens = 16384
	DefaultQueueSize      = 512
)

// Options configure an Engine. Zero values select the defaults.
type Options struct {
	// MaxBatchTokens is the padded token budget of one forward pass: longest × count.
	// A single sequence longer than the budget still runs, alone.
	MaxBatchTokens int
	// QueueSize is the number of requests that may wait for the batcher.
	QueueSize int
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
	// Logger logs forwarder failures (nil: slog.Default()).
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
	depth atomic.Int64 // sequences admitted and not yet in a batch (or dropped)

	mu     sync.RWMutex // guards closed against the close of queue
	closed bool

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
	if opts.QueueSize == 0 {
		opts.QueueSize = DefaultQueueSize
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = 1
	}
	if opts.BatchWait < 0 {
		return nil, fmt.Errorf("engine: BatchWait (%v) must not be negative", opts.BatchWait)
	}
	if opts.MaxBatchTokens < 1 || opts.QueueSize < 1 || opts.Concurrency < 1 {
		return nil, fmt.Errorf("engine: MaxBatchTokens (%d), QueueSize (%d) and Concurrency (%d) must be positive",
			opts.MaxBatchTokens, opts.QueueSize, opts.Concurrency)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Engine[F, O]{
		opts:   opts,
		queue:  make(chan *request[F, O], opts.QueueSize),
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

// MaxBatchTokens is the padded token budget of one forward pass.
func (e *Engine[F, O]) MaxBatchTokens() int { return e.opts.MaxBatchTokens }

// Submit queues one request of token-id sequences and waits for its rows. It fails at once with
// ErrOverloaded when the queue is full and ErrClosed after Close; it returns ctx.Err() when ctx
// ends first (the request is then dropped unless it is already being computed). The ids slices
// must not be modified until Submit returns.
func (e *Engine[F, O]) Submit(ctx context.Context, ids [][]int32) (Result[F, O], error) {
	var zero Result[F, O]
	if len(ids) == 0 {
		return zero, ErrEmpty
	}
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	r := &request[F, O]{
		ctx:       ctx,
		ids:       ids,
		pin:       e.cur.Load(),
		admitted:  time.Now(),
		rows:      make([]Row[O], len(ids)),
		remaining: len(ids),
		placed:    make([]bool, len(ids)),
		waiting:   len(ids),
		done:      make(chan outcome[F, O], 1),
	}
	if err := e.enqueue(r); err != nil {
		return zero, err
	}
	select {
	case out := <-r.done:
		return out.res, out.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

func (e *Engine[F, O]) enqueue(r *request[F, O]) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return ErrClosed
	}
	e.depth.Add(int64(len(r.ids)))
	select {
	case e.queue <- r:
		return nil
	default:
		e.depth.Add(-int64(len(r.ids)))
		return ErrOverloaded
	}
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
	select {
	case <-e.done:
		return nil
	case <-ctx.Done():
		e.cancel()
		<-e.done
		return ctx.Err()
	}
}
