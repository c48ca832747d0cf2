package inference

import (
	"context"
	"math"

	"github.com/coldserve/coldserve/encoder"
)

// EmbedRequest asks for one vector per input, or every token's vector with pooling none.
type EmbedRequest struct {
	// Inputs are texts or token ids (or sentence pairs, embedded as the pair template lays
	// them out).
	Inputs []Input
	// Pooling is mean, cls, pooler or none ("": Options.DefaultPooling).
	Pooling   string
	Normalize bool // L2-normalise every vector
	// Dimensions keeps the first N dimensions of every vector, normalised afterwards when
	// Normalize is set (Matryoshka truncation); nil keeps them all.
	Dimensions   *int
	Truncation   Truncation
	ReturnTokens bool // also return each input's tokens (always with pooling none)
	// Classify names heads that also score the inputs, from the same forward pass for heads
	// on the main encoder (["*"]: every head). Every label is returned, by score.
	Classify []string
	// Reserved is the room Reserve held for the request, or nil.
	Reserved *Reservation
}

// Embeddings is the answer to an EmbedRequest.
type Embeddings struct {
	Model, Checkpoint string // the served model's name; the checkpoint that computed every vector
	Pooling           encoder.Pooling
	Dimensions        int
	Vectors           [][]float32   // one per input, unless Pooling is none (read only: the cache shares them)
	TokenVectors      [][][]float32 // per input and token, with Pooling none
	Tokens            [][]Token     // with ReturnTokens or Pooling none
	Classifications   []HeadResult  // per head of Classify, in its order
	Stats             Stats
}

// Embed embeds req.Inputs on the main encoder. Every vector of one answer comes from one
// checkpoint, named in the answer, even across a swap. Repeated inputs are answered from the
// result cache. A ctx whose cause is ErrTimeout (context.WithTimeoutCause) fails with
// ErrTimeout when it ends, any other ended ctx with ErrCancelled.
func (c *Core) Embed(ctx context.Context, req EmbedRequest) (*Embeddings, error) {
	m, err := c.acquireFor(len(req.Inputs))
	if err != nil {
		return nil, err
	}
	defer m.refs.Release()
	pooling := c.opts.DefaultPooling
	if req.Pooling != "" {
		p, err := encoder.ParsePooling(req.Pooling)
		if err != nil {
			return nil, errorf(ErrInvalidInput, "pooling: %v", err)
		}
		pooling = p
	}
	enc := m.main.eng.Current()
	if pooling == encoder.PoolPooler && !enc.HasPooler() {
		return nil, errorf(ErrInvalidInput, "pooling \"pooler\": this checkpoint has no pooler weights; use mean or cls")
	}
	dims := 0 // all
	if req.Dimensions != nil {
		dims = *req.Dimensions
		if hidden := enc.Config().HiddenSize; dims < 1 || dims > hidden {
			return nil, errorf(ErrInvalidInput, "dimensions %d: want 1 to %d, the model's hidden size", dims, hidden)
		}
	}
	if err := validTruncation(req.Truncation); err != nil {
		return nil, err
	}
	var heads []*servedHead
	if len(req.Classify) > 0 {
		if heads, err = m.resolveHeads(req.Classify, ""); err != nil {
			return nil, err
		}
	}
	// Pooled vectors alone come from the result cache; token rows and tokens need the pass.
	rows := pooling == encoder.PoolNone || req.ReturnTokens
	var pool []product
	if pooling != encoder.PoolNone {
		pool = []product{poolProduct(pooling, req.Normalize)}
	}
	jobs := headJobs(m, heads, pool, rows)
	results, st, err := c.runJobs(ctx, m, req.Reserved, jobs, req.Inputs, req.Truncation)
	if err != nil {
		return nil, err
	}
	main := results[0]
	resp := &Embeddings{Model: m.name, Checkpoint: main.checkpoint, Pooling: pooling, Dimensions: main.dimensions, Stats: st,
		Classifications: headResults(heads, jobs, results, false, nil)}
	if dims > 0 {
		resp.Dimensions = dims
	}
	if pooling == encoder.PoolNone {
		resp.TokenVectors = make([][][]float32, len(req.Inputs))
		for i, row := range main.computed.res.Rows {
			resp.TokenVectors[i] = tokenRows(row.Output.Hidden(row.Index), req.Normalize, dims)
		}
	} else {
		resp.Vectors = main.values[0]
		if dims > 0 {
			resp.Vectors = make([][]float32, len(main.values[0]))
			for i, v := range main.values[0] {
				resp.Vectors[i] = cutVector(v, dims, req.Normalize)
			}
		}
	}
	if rows {
		resp.Tokens = make([][]Token, len(req.Inputs))
		for i, e := range main.computed.encs {
			resp.Tokens[i] = e.tokens
		}
	}
	return resp, nil
}

// tokenRows returns a sequence's token vectors: as they are, or copies cut to dims
// dimensions (0: all) and L2-normalised when asked (the encoder's rows are shared with
// batchmates and must not be modified).
func tokenRows(rows [][]float32, normalize bool, dims int) [][]float32 {
	if !normalize && dims == 0 {
		return rows
	}
	out := make([][]float32, len(rows))
	for i, r := range rows {
		out[i] = cutVector(r, dims, normalize)
	}
	return out
}

// cutVector returns a copy of v's first dims dimensions (0: all), scaled to unit L2 norm when
// normalize is set. v is not modified: the cache and batchmates share it.
func cutVector(v []float32, dims int, normalize bool) []float32 {
	if dims > 0 {
		v = v[:dims]
	}
	out := make([]float32, len(v))
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	scale := 1.0
	if normalize && ss > 0 {
		scale = 1 / math.Sqrt(ss)
	}
	for j, x := range v {
		out[j] = float32(float64(x) * scale)
	}
	return out
}
