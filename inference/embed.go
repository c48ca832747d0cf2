package inference

import (
	"context"
	"math"

	"github.com/coldserve/coldserve/encoder"
)

// EmbedRequest asks for one vector per input, or every token's vector with pooling none.
type EmbedRequest struct {
	Inputs []string
	// Pooling is mean, cls, pooler or none ("": Options.DefaultPooling).
	Pooling   string
	Normalize bool // L2-normalise every vector
	// Truncate cuts inputs to the token limit; without it a longer input is refused.
	Truncate     bool
	ReturnTokens bool // also return each input's tokens (always with pooling none)
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
	Stats             Stats
}

// Embed embeds req.Inputs on the main encoder. Every vector of one answer comes from one
// checkpoint, named in the answer, even across a swap. Repeated texts are answered from the
// result cache. A ctx whose cause is ErrTimeout (context.WithTimeoutCause) fails with
// ErrTimeout when it ends, any other ended ctx with ErrCancelled.
func (c *Core) Embed(ctx context.Context, req EmbedRequest) (*Embeddings, error) {
	m, err := c.acquireFor(req.Inputs)
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
	if pooling == encoder.PoolPooler && !m.main.eng.Current().HasPooler() {
		return nil, errorf(ErrInvalidInput, "pooling \"pooler\": this checkpoint has no pooler weights; use mean or cls")
	}
	if pooling != encoder.PoolNone && !req.ReturnTokens {
		// Pooled vectors only: the result cache applies.
		res, err := c.embedPooled(ctx, m, req.Reserved, req.Inputs, pooling, req.Normalize, req.Truncate)
		if err != nil {
			return nil, err
		}
		return &Embeddings{Model: m.name, Checkpoint: res.checkpoint, Pooling: pooling, Dimensions: res.dimensions,
			Vectors: res.vecs, Stats: res.stats}, nil
	}
	out, err := c.compute(ctx, m, req.Reserved, m.main, req.Inputs, req.Truncate)
	if err != nil {
		return nil, err
	}
	enc := out.res.Forwarder
	resp := &Embeddings{Model: m.name, Checkpoint: enc.CheckpointID(), Pooling: pooling,
		Dimensions: enc.Config().HiddenSize, Stats: out.stats}
	if pooling == encoder.PoolNone {
		resp.TokenVectors = make([][][]float32, len(out.res.Rows))
		for i, row := range out.res.Rows {
			resp.TokenVectors[i] = tokenRows(row.Output.Hidden(row.Index), req.Normalize)
		}
	} else {
		resp.Vectors = make([][]float32, len(out.res.Rows))
		for i, row := range out.res.Rows {
			v, err := enc.Pool(row.Output, row.Index, pooling, req.Normalize)
			if err != nil {
				return nil, err
			}
			resp.Vectors[i] = v
		}
	}
	resp.Tokens = make([][]Token, len(out.encs))
	for i, e := range out.encs {
		resp.Tokens[i] = e.tokens
	}
	return resp, nil
}

// tokenRows returns a sequence's token vectors, L2-normalised copies when normalize is set
// (the encoder's rows are shared with batchmates and must not be modified).
func tokenRows(rows [][]float32, normalize bool) [][]float32 {
	if !normalize {
		return rows
	}
	out := make([][]float32, len(rows))
	for i, r := range rows {
		var ss float64
		for _, x := range r {
			ss += float64(x) * float64(x)
		}
		v := make([]float32, len(r))
		if ss > 0 {
			inv := 1 / math.Sqrt(ss)
			for j, x := range r {
				v[j] = float32(float64(x) * inv)
			}
		}
		out[i] = v
	}
	return out
}
