package inference

import (
	"context"

	"github.com/coldserve/coldserve/encoder"
)

// pooledResult is the outcome of embedPooled: one vector per input and the checkpoint that
// computed every one of them.
type pooledResult struct {
	vecs       [][]float32
	checkpoint string
	dimensions int
	stats      Stats
}

// embedPooled embeds texts into pooled vectors on the main lane, answering what it can from
// the result cache. Only the inputs that miss are tokenized and submitted, in one engine
// request, so they are pinned to one checkpoint; their vectors are cached under that
// checkpoint's ID.
//
// The lookups use the checkpoint that is current before submission. When an admin swap lands
// between the lookups and the submission, the misses run on the new weights while the hits
// came from the old ones; the whole request is then computed again, uncached, so that a
// response never mixes vectors of two checkpoints.
func (c *Core) embedPooled(ctx context.Context, m *served, r *Reservation, texts []string, pooling encoder.Pooling,
	normalize, truncate bool) (*pooledResult, error) {
	enc := m.main.eng.Current()
	res := &pooledResult{vecs: make([][]float32, len(texts)), checkpoint: enc.CheckpointID(),
		dimensions: enc.Config().HiddenSize, stats: Stats{Inputs: len(texts)}}
	key := func(ckpt, text string) cacheKey {
		return cacheKey{checkpoint: ckpt, pooling: pooling, normalize: normalize, truncate: truncate,
			maxTokens: m.maxInputTokens, text: text}
	}
	var missing []int // indexes of texts not in the cache
	hitTokens := make([]int, len(texts))
	for i, t := range texts {
		if e, ok := c.cache.get(key(res.checkpoint, t)); ok {
			res.vecs[i], hitTokens[i] = e.vec, e.tokens
			continue
		}
		missing = append(missing, i)
	}
	if len(missing) == 0 {
		for i, n := range hitTokens {
			res.stats.add(texts[i], n)
		}
		return res, nil
	}
	sub := make([]string, len(missing))
	for j, i := range missing {
		sub[j] = texts[i]
	}
	out, err := c.compute(ctx, m, r, m.main, sub, truncate)
	if err != nil {
		return nil, err
	}
	if got := out.res.Forwarder.CheckpointID(); got != res.checkpoint && len(missing) < len(texts) {
		// Swapped meanwhile: recompute everything on one checkpoint (see the doc comment).
		missing, sub = missing[:0], texts
		for i := range texts {
			missing = append(missing, i)
		}
		if out, err = c.compute(ctx, m, r, m.main, texts, truncate); err != nil {
			return nil, err
		}
		hitTokens = make([]int, len(texts))
	}
	fwd := out.res.Forwarder
	res.checkpoint, res.dimensions = fwd.CheckpointID(), fwd.Config().HiddenSize
	for j, i := range missing {
		row := out.res.Rows[j]
		v, err := fwd.Pool(row.Output, row.Index, pooling, normalize)
		if err != nil {
			return nil, err
		}
		res.vecs[i] = v
		hitTokens[i] = len(out.encs[j].ids)
		c.cache.add(key(res.checkpoint, sub[j]), cacheEntry{vec: v, tokens: len(out.encs[j].ids)})
	}
	res.stats.Tokenize, res.stats.Queue, res.stats.Inference = out.stats.Tokenize, out.stats.Queue, out.stats.Inference
	for i, n := range hitTokens {
		res.stats.add(texts[i], n)
	}
	return res, nil
}
