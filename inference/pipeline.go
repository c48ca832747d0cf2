package inference

import (
	"context"
	"errors"
	"time"

	"github.com/coldserve/coldserve/encoder"
	"github.com/coldserve/coldserve/engine"
)

// Workload is what a request will run, which decides the queue that admission reserves in.
type Workload int

const (
	WorkloadEmbed    Workload = iota // the main encoder
	WorkloadClassify                 // the encoder of the head the request names
)

// Reservation is room held in one encoder's queue for a request whose body is not parsed
// yet. A request passes it in its Reserved field and submits through it; Release frees what
// was not used (a no-op once submitted).
type Reservation struct {
	lane *lane
	res  *engine.Reservation[*encoder.Encoder, *encoder.Output]
}

// Reserve holds room for an estimated number of tokens in the queue that a request of kind
// w will use, so that a full queue refuses it before parsing and tokenizing cost CPU. It
// returns nil and no error when no model is loaded (the request itself then fails with
// ErrNotReady) or when the queue depends on the body (a classify request with heads on
// several encoders); it fails with ErrOverloaded when there is no room, ErrShuttingDown once
// closing.
func (c *Core) Reserve(w Workload, tokens int) (*Reservation, error) {
	m := c.model.Load()
	if m == nil {
		return nil, nil
	}
	l := m.main
	if w == WorkloadClassify {
		if l = m.classifyLane(); l == nil {
			if m.classifyFull() {
				return nil, errQueueFull(engine.ErrOverloaded, 0)
			}
			return nil, nil
		}
	}
	res, err := l.eng.Reserve(tokens)
	if err != nil {
		return nil, engineError(err, l)
	}
	return &Reservation{lane: l, res: res}, nil
}

// Release frees the room unless a request used it.
func (r *Reservation) Release() {
	if r != nil && r.res != nil {
		r.res.Release()
	}
}

// holds reports whether r holds room in l's queue.
func (r *Reservation) holds(l *lane) bool { return r != nil && r.res != nil && r.lane == l }

// submit submits ids to l, through r's reservation when it holds one there (once).
func (r *Reservation) submit(ctx context.Context, l *lane, ids [][]int32) (engine.Result[*encoder.Encoder, *encoder.Output], error) {
	if r.holds(l) {
		res := r.res
		r.res = nil
		return res.Submit(ctx, ids)
	}
	return l.eng.Submit(ctx, ids)
}

// Stats describe one embed or classify request: what it cost and where its time went.
type Stats struct {
	Inputs, Chars, Tokens      int
	Lengths                    []int // tokens per input, after truncation
	Tokenize, Queue, Inference time.Duration
}

// add counts one input of n tokens.
func (st *Stats) add(in Input, n int) {
	st.Tokens += n
	st.Chars += in.chars()
	st.Lengths = append(st.Lengths, n)
}

// computed is the outcome of the shared pipeline for one request.
type computed struct {
	encs  []encoding
	res   engine.Result[*encoder.Encoder, *encoder.Output]
	stats Stats
}

// checkInputs applies the rules shared by every request that takes a list of inputs.
func (c *Core) checkInputs(n int, what string) error {
	switch {
	case n == 0:
		return errorf(ErrEmptyInput, "%s is empty: send a string or a non-empty list", what)
	case n > c.opts.MaxClientBatch:
		return errorf(ErrTooManyInputs, "%d %s, more than the limit of %d per request (--max-client-batch)",
			n, what, c.opts.MaxClientBatch)
	}
	return nil
}

// compute tokenizes inputs on lane l (cutting them to the model's limit as trunc says, or
// refusing with ErrInputTooLong when trunc.Refuse is set and an input is longer), runs them
// through l's engine and returns the rows. The request is pinned to the encoder current at
// submission; its result says which one. A full queue is checked before tokenizing, so that
// refusing costs little.
func (c *Core) compute(ctx context.Context, m *served, r *Reservation, l *lane, inputs []Input, trunc Truncation) (*computed, error) {
	out := &computed{stats: Stats{Inputs: len(inputs)}}
	start := time.Now()
	if !r.holds(l) && l.eng.Full() {
		c.obs.Refused(StageAdmission)
		return out, errQueueFull(engine.ErrOverloaded, l.eng.Backlog().Drain)
	}
	encs, err := l.tok.encode(ctx, inputs, m.maxInputTokens, trunc, true)
	if err != nil {
		if ctx.Err() != nil {
			return out, ctxError(ctx, err)
		}
		return out, err
	}
	out.encs = encs
	out.stats.Tokenize = time.Since(start)

	ids := make([][]int32, len(encs))
	for i, enc := range encs {
		if enc.dropped > 0 && trunc.Refuse {
			return out, errorf(ErrInputTooLong,
				"input %d has %d tokens, more than the limit of %d (specials included): shorten it or send \"truncate\": true",
				i, enc.fullLength(), m.maxInputTokens)
		}
		ids[i] = enc.ids
		out.stats.add(inputs[i], len(enc.ids))
	}
	if out.stats.Tokens > c.opts.MaxRequestTokens {
		return out, errorf(ErrTooManyTokens,
			"the inputs have %d tokens in all, more than the limit of %d per request (--max-request-tokens): split the request",
			out.stats.Tokens, c.opts.MaxRequestTokens)
	}
	res, err := r.submit(ctx, l, ids)
	if err != nil {
		e := engineError(err, l)
		switch {
		case errors.Is(e, ErrOverloaded):
			stage := StageQueueFull
			if errors.Is(err, engine.ErrQueueTimeout) {
				stage = StageQueueWait
			}
			c.obs.Refused(stage)
		case ctx.Err() != nil:
			e = ctxError(ctx, err)
		}
		return out, e
	}
	out.res = res
	out.stats.Queue = res.Queue
	out.stats.Inference = res.Inference
	return out, nil
}

// ctxError explains why a request's ctx ended, by its cause: the deadline a front end set
// with context.WithTimeoutCause(..., ErrTimeout), a shutdown that gave up on the request
// (cause ErrShuttingDown), or else the caller going away.
func ctxError(ctx context.Context, err error) error {
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, ErrTimeout):
		return &Error{Kind: ErrTimeout, Err: err,
			Msg: "the request took longer than the request timeout (--request-timeout) and was dropped"}
	case errors.Is(cause, ErrShuttingDown):
		return &Error{Kind: ErrShuttingDown, Err: err, Msg: "the server is shutting down"}
	}
	return &Error{Kind: ErrCancelled, Msg: "the request was cancelled", Err: err}
}

// engineError turns an error of l's engine or encoder into a kind; one it does not know is
// returned as is (a fault of the server).
func engineError(err error, l *lane) error {
	var input *encoder.InputError
	switch {
	case errors.Is(err, engine.ErrOverloaded), errors.Is(err, engine.ErrQueueTimeout):
		var drain time.Duration
		if l != nil {
			drain = l.eng.Backlog().Drain
		}
		return errQueueFull(err, drain)
	case errors.Is(err, engine.ErrClosed):
		return &Error{Kind: ErrShuttingDown, Msg: "the server is shutting down", Err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &Error{Kind: ErrCancelled, Msg: "the request was cancelled", Err: err}
	case errors.As(err, &input):
		return &Error{Kind: ErrInvalidInput, Msg: input.Error(), Err: err}
	}
	return err
}

// errQueueFull is the ErrOverloaded of a full queue (engine.ErrOverloaded) or of a request
// that waited too long in it (engine.ErrQueueTimeout).
func errQueueFull(cause error, drain time.Duration) *Error {
	msg := "the server is overloaded: the batch queue is full, retry after Retry-After seconds"
	if errors.Is(cause, engine.ErrQueueTimeout) {
		msg = "the server is overloaded: the request waited longer than --max-queue-wait for a forward pass, retry after Retry-After seconds"
	}
	return &Error{Kind: ErrOverloaded, Msg: msg, Err: cause, Drain: drain}
}
