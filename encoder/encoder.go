package encoder

import (
	"context"
	"fmt"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/coldserve/coldserve/internal/kernels"
	"github.com/coldserve/coldserve/weights"
)

// EncoderOptions tune an Encoder's concurrency and memory; the zero value is usable.
type EncoderOptions struct {
	// Workers is how many forward passes may run at once (default 1). Each worker owns its
	// compiled machines and scratch memory; callers beyond that wait for a free worker.
	// Threads per matrix multiply are set process-wide by kernels.SetThreads or
	// OMP_NUM_THREADS: workers × threads should not exceed the cores.
	Workers int
	// MachineCache is how many compiled machines (one per total token count) each
	// worker keeps, least recently used evicted first (default 32). Compiling one costs
	// about a millisecond; the machines share the worker's scratch memory.
	MachineCache int
	// DType is the precision of the encoder layers' linear layers: Float32 (the default)
	// or BFloat16, which NewEncoder refuses where BFloat16Support reports an error.
	DType DType

	// bf16 replaces the build's bfloat16 backend (tests: the exact emulation, so the
	// bfloat16 numerics are tested on CPUs without bfloat16 instructions).
	bf16 kernels.BF16
}

func (o EncoderOptions) withDefaults() EncoderOptions {
	if o.Workers <= 0 {
		o.Workers = 1
	}
	if o.MachineCache <= 0 {
		o.MachineCache = 32
	}
	if o.DType == "" {
		o.DType = Float32
	}
	return o
}

// Encoder runs a RoBERTa encoder (HF RobertaModel's forward, in float32, or with its linear
// layers in bfloat16: see DType) as a compiled Gorgonia graph. It is safe for concurrent use: each forward pass borrows a worker,
// and a worker's compiled machines are only ever used by the goroutine holding it.
//
// Embeddings run in Go before the graph; each layer is one run of a compiled single-layer
// graph of custom ops (see ops_graph.go). The linear layers multiply by kernels.Matrix (the
// packed AVX-512/AVX2 kernels on amd64 with cgo, else the build's Sgemm), attention by
// kernels.Sgemm (oneDNN, OpenBLAS or gonum by build). Gorgonia's built-in MatMul is not used,
// so the process-global gorgonia.Use is never called.
type Encoder struct {
	cfg     weights.Config
	w       *encoderWeights
	bf16    kernels.BF16 // the bfloat16 backend of a BFloat16 encoder; nil for Float32
	workers chan *worker
	id      func() string // the checkpoint's ID, computed on first use
}

// worker is one goroutine's worth of machinery: scratch memory and the compiled single-layer
// machines keyed by the batch's total number of tokens. A worker
// belongs to one goroutine at a time (it is taken from and returned to Encoder.workers), so
// its machine cache needs no lock: simplelru, not the locked lru.Cache.
type worker struct {
	sc       *scratch
	machines *simplelru.LRU[int, *layerMachine]
}

// NewEncoder prepares ck's encoder. It checks the config and every tensor's shape. The
// embeddings and the pooler are shared with the checkpoint, not copied (ck must not change
// afterwards). The layers' linear weights are copied where the kernels pack them (float32 on
// amd64 with AVX2 or AVX-512) or round them (BFloat16), and shared otherwise; once the
// encoder has computed its CheckpointID it holds no other reference to ck, so a caller that
// drops ck frees the copied originals.
func NewEncoder(ck *weights.Checkpoint, opts EncoderOptions) (*Encoder, error) {
	if ck == nil {
		return nil, fmt.Errorf("new encoder: nil checkpoint")
	}
	if err := ck.Config.Validate(); err != nil {
		return nil, fmt.Errorf("new encoder: %w", err)
	}
	opts = opts.withDefaults()
	e := &Encoder{cfg: ck.Config, workers: make(chan *worker, opts.Workers), id: sync.OnceValue(ck.ID)}
	var err error
	switch opts.DType {
	case Float32:
	case BFloat16:
		if e.bf16 = opts.bf16; e.bf16 == nil {
			if e.bf16, err = kernels.HardwareBF16(); err != nil {
				return nil, fmt.Errorf("new encoder: %w", err)
			}
		}
	default:
		return nil, fmt.Errorf("new encoder: dtype %q: want %q or %q", opts.DType, Float32, BFloat16)
	}
	if e.w, err = newEncoderWeights(ck, e.bf16); err != nil {
		return nil, fmt.Errorf("new encoder: %w", err)
	}
	for i := 0; i < opts.Workers; i++ {
		wk, err := e.newWorker(opts.MachineCache)
		if err != nil {
			return nil, fmt.Errorf("new encoder: %w", err)
		}
		e.workers <- wk
	}
	return e, nil
}

func (e *Encoder) newWorker(cacheSize int) (*worker, error) {
	wk := &worker{sc: &scratch{}}
	cache, err := simplelru.NewLRU(cacheSize, func(_ int, m *layerMachine) { m.close() })
	if err != nil {
		return nil, fmt.Errorf("machine cache: %w", err)
	}
	wk.machines = cache
	return wk, nil
}

// dropStaleMachines evicts every cached machine but the one for keep when the scratch has
// grown since grownBefore: their tensors still point at the replaced buffers, which would
// otherwise stay alive, one generation per machine, as batches keep getting bigger.
// Recompiling a machine costs about a millisecond, and growth stops at the largest batch.
func (wk *worker) dropStaleMachines(grownBefore, keep int) {
	if wk.sc.grown == grownBefore {
		return
	}
	for _, n := range wk.machines.Keys() {
		if n != keep {
			wk.machines.Remove(n)
		}
	}
}

// Config is the encoder's model config.
func (e *Encoder) Config() weights.Config { return e.cfg }

// CheckpointID is the served checkpoint's ID (Checkpoint.ID), computed once.
func (e *Encoder) CheckpointID() string { return e.id() }

// DType is the precision the encoder's linear layers compute in.
func (e *Encoder) DType() DType {
	if e.bf16 != nil {
		return BFloat16
	}
	return Float32
}

// HasPooler says whether the checkpoint has HF's pooler (needed for PoolPooler).
func (e *Encoder) HasPooler() bool { return e.w.poolerW != nil }

// Forward encodes a batch of token-id sequences (each with its specials, unpadded). The
// sequences are packed back to back, without padding: the linear layers run on real tokens
// only and attention on each sequence's own block, so each sequence's rows equal running it
// alone and a mixed-length batch costs its total tokens, not batch × longest. It returns an
// error for an empty batch, an empty or over-long sequence or an id outside the vocabulary
// (an *InputError), and ctx's error if ctx ends between layers or while waiting for a worker.
func (e *Encoder) Forward(ctx context.Context, ids [][]int32) (*Output, error) {
	if err := e.checkInput(ids); err != nil {
		return nil, err
	}
	var wk *worker
	select {
	case wk = <-e.workers:
	case <-ctx.Done():
		return nil, fmt.Errorf("forward: waiting for a worker: %w", ctx.Err())
	}
	defer func() { e.workers <- wk }()
	return e.forward(ctx, wk, ids)
}

func (e *Encoder) forward(ctx context.Context, wk *worker, ids [][]int32) (*Output, error) {
	tokens := 0
	for _, s := range ids {
		tokens += len(s)
	}
	defer wk.dropStaleMachines(wk.sc.grown, tokens) // compiling lm may grow the scratch too
	lm, ok := wk.machines.Get(tokens)
	if !ok {
		var err error
		if lm, err = newLayerMachine(e.cfg, wk.sc, tokens, e.bf16); err != nil {
			return nil, fmt.Errorf("forward: %w", err)
		}
		wk.machines.Add(tokens, lm)
	}
	x, lens := lm.bindInputs()
	e.embed(x, lens, ids)
	for l := range e.w.layers {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("forward: before layer %d: %w", l, err)
		}
		if err := lm.runLayer(&e.w.layers[l], x); err != nil {
			return nil, fmt.Errorf("forward: layer %d: %w", l, err)
		}
	}
	return newOutput(x, ids, e.cfg.HiddenSize), nil
}

// embed writes the embedding output of the packed batch into x ([tokens, hidden], the
// sequences back to back) and each token's sequence length into lens ([1, tokens]; the
// attention op finds the sequences from it). Like HF's RobertaEmbeddings with
// token_type_ids 0: word + position + token type, then LayerNorm. Position ids follow
// create_position_ids_from_input_ids: pad tokens get pad_token_id, other tokens count up
// from pad_token_id+1, so a pad id inside a text does not advance the count.
func (e *Encoder) embed(x, lens []float32, ids [][]int32) {
	c := e.cfg
	h, pad := c.HiddenSize, int32(c.PadTokenID)
	typ := e.w.tokenType.data[:h]
	r := 0
	for _, s := range ids {
		pos := c.PadTokenID
		for _, id := range s {
			p := c.PadTokenID
			if id != pad {
				pos++
				p = pos
			}
			lens[r] = float32(len(s))
			row := x[r*h : (r+1)*h]
			word := e.w.word.data[int(id)*h : int(id+1)*h]
			position := e.w.position.data[p*h : (p+1)*h]
			for i := range row {
				row[i] = word[i] + position[i] + typ[i]
			}
			kernels.LayerNormRow(row, row, e.w.embGamma, e.w.embBeta, c.LayerNormEps)
			r++
		}
	}
}
