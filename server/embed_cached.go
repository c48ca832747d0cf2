package server

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/coldserve/coldserve/encoder"
)

// pooledResult is the outcome of embedPooled: one vector per input and the checkpoint that
// computed every one of them.
type pooledResult struct {
	vecs       [][]float32
	checkpoint string
	dimensions int
	stats      stats
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
func (s *Server) embedPooled(ctx context.Context, m *served, adm *admission, texts []string, pooling encoder.Pooling,
	normalize, truncate bool) (*pooledResult, *Error) {
	start := time.Now()
	enc := m.main.eng.Current()
	res := &pooledResult{vecs: make([][]float32, len(texts)), checkpoint: enc.CheckpointID(),
		dimensions: enc.Config().HiddenSize, stats: stats{inputs: len(texts), t: timings{start: start}}}
	key := func(ckpt, text string) cacheKey {
		return cacheKey{checkpoint: ckpt, pooling: pooling, normalize: normalize, truncate: truncate,
			maxTokens: m.maxInputTokens, text: text}
	}
	var missing []int // indexes of texts not in the cache
	hitTokens := make([]int, len(texts))
	for i, t := range texts {
		if e, ok := s.cache.get(key(res.checkpoint, t)); ok {
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
	out, e := s.compute(ctx, m, adm, m.main, sub, truncate)
	if e != nil {
		res.stats = out.stats
		res.stats.inputs = len(texts)
		return res, e
	}
	if got := out.res.Forwarder.CheckpointID(); got != res.checkpoint && len(missing) < len(texts) {
		// Swapped meanwhile: recompute everything on one checkpoint (see the doc comment).
		missing, sub = missing[:0], texts
		for i := range texts {
			missing = append(missing, i)
		}
		if out, e = s.compute(ctx, m, adm, m.main, texts, truncate); e != nil {
			return res, e
		}
		hitTokens = make([]int, len(texts))
	}
	fwd := out.res.Forwarder
	res.checkpoint, res.dimensions = fwd.CheckpointID(), fwd.Config().HiddenSize
	for j, i := range missing {
		row := out.res.Rows[j]
		v, err := fwd.Pool(row.Output, row.Index, pooling, normalize)
		if err != nil {
			return res, internalError(err)
		}
		res.vecs[i] = v
		hitTokens[i] = len(out.encs[j].ids)
		s.cache.add(key(res.checkpoint, sub[j]), cacheEntry{vec: v, tokens: len(out.encs[j].ids)})
	}
	res.stats.t = out.stats.t
	for i, n := range hitTokens {
		res.stats.add(texts[i], n)
	}
	return res, nil
}

// add counts one input of n tokens in the request's statistics.
func (st *stats) add(text string, n int) {
	st.tokens += n
	st.chars += utf8.RuneCountInString(text)
	st.lengths = append(st.lengths, n)
}
