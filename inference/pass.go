package inference

import (
	"context"
	"fmt"
	"sync"

	"github.com/coldserve/coldserve/encoder"
)

// product is what one input's encoder rows become: a pooled vector or a head's logits.
// Several products of one input come from one forward pass.
type product struct {
	kind  string // CacheEmbed or CacheClassify: what a cache lookup of it counts as
	key   string // the cache key's product part
	apply func(fwd *encoder.Encoder, out *encoder.Output, row int) ([]float32, error)
}

// poolProduct is the pooled (and maybe normalised) vector.
func poolProduct(p encoder.Pooling, normalize bool) product {
	key := string(p)
	if normalize {
		key += "+normalize"
	}
	return product{kind: CacheEmbed, key: key, apply: func(fwd *encoder.Encoder, out *encoder.Output, row int) ([]float32, error) {
		return fwd.Pool(out, row, p, normalize)
	}}
}

// headProduct is a head's logits on the <s> row. The key names the head's weights, not only
// its name: a head removed and added again under the same name with other weights misses.
func headProduct(h *servedHead) product {
	return product{kind: CacheClassify, key: "head " + h.name + " " + h.id, apply: func(_ *encoder.Encoder, out *encoder.Output, row int) ([]float32, error) {
		logits := h.head.Logits(out.Hidden(row)[0])
		if logits == nil {
			return nil, fmt.Errorf("head %s: the encoder rows do not match its width", h.name)
		}
		return logits, nil
	}}
}

// passResult is one lane's share of a request: every product of every input, computed by
// one checkpoint.
type passResult struct {
	values     [][][]float32 // [product][input]; read only (the cache shares them)
	checkpoint string        // of the encoder that computed every value
	dimensions int           // the encoder's hidden size
	stats      Stats
	// computed holds the rows and tokens of every input when run was asked for them (the
	// cache is then bypassed).
	computed *computed
}

// run computes products for inputs on lane l, in one engine request: an input whose every
// product is in the result cache costs neither tokenization nor a forward pass, and the
// others are tokenized and submitted together, so they are pinned to one checkpoint, and
// their results are cached under its ID. With rows, every input is computed and the rows
// and tokens are kept in the result.
//
// The lookups use the checkpoint that is current before submission. When an admin swap lands
// between the lookups and the submission, the misses run on the new weights while the hits
// came from the old ones; the whole request is then computed again, so that an answer never
// mixes results of two checkpoints.
func (c *Core) run(ctx context.Context, m *served, r *Reservation, l *lane, inputs []Input, trunc Truncation,
	products []product, rows bool) (*passResult, error) {
	enc := l.eng.Current()
	res := &passResult{values: make([][][]float32, len(products)), checkpoint: enc.CheckpointID(),
		dimensions: enc.Config().HiddenSize, stats: Stats{Inputs: len(inputs)}}
	for p := range products {
		res.values[p] = make([][]float32, len(inputs))
	}
	key := func(ckpt string, p product, in Input) cacheKey {
		return cacheKey{checkpoint: ckpt, product: p.key, trunc: trunc, maxTokens: m.maxInputTokens, input: in.key()}
	}
	tokens := make([]int, len(inputs))
	var missing []int // indexes of inputs to compute
	for i, in := range inputs {
		hit := !rows && c.cache != nil
		for p, prod := range products {
			if !hit {
				break
			}
			e, ok := c.cache.get(prod.kind, key(res.checkpoint, prod, in))
			res.values[p][i], tokens[i], hit = e.vec, e.tokens, ok
		}
		if !hit {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 {
		sub := make([]Input, len(missing))
		for j, i := range missing {
			sub[j] = inputs[i]
		}
		out, err := c.compute(ctx, m, r, l, sub, trunc)
		if err != nil {
			return nil, err
		}
		if got := out.res.Forwarder.CheckpointID(); got != res.checkpoint && len(missing) < len(inputs) {
			// Swapped meanwhile: compute everything on one checkpoint (see the doc comment).
			missing, sub = missing[:0], inputs
			for i := range inputs {
				missing = append(missing, i)
			}
			if out, err = c.compute(ctx, m, r, l, inputs, trunc); err != nil {
				return nil, err
			}
		}
		fwd := out.res.Forwarder
		res.checkpoint, res.dimensions = fwd.CheckpointID(), fwd.Config().HiddenSize
		for j, i := range missing {
			row := out.res.Rows[j]
			tokens[i] = len(out.encs[j].ids)
			for p, prod := range products {
				v, err := prod.apply(fwd, row.Output, row.Index)
				if err != nil {
					return nil, err
				}
				res.values[p][i] = v
				if !rows {
					c.cache.add(key(res.checkpoint, prod, sub[j]), cacheEntry{vec: v, tokens: tokens[i]})
				}
			}
		}
		res.stats.Tokenize, res.stats.Queue, res.stats.Inference = out.stats.Tokenize, out.stats.Queue, out.stats.Inference
		if rows {
			res.computed = out
		}
	}
	for i, n := range tokens {
		res.stats.add(inputs[i], n)
	}
	return res, nil
}

// job is one lane's share of a request that runs on several lanes (heads with their own
// encoders): its products, and for each the head it scores (nil for a pooled vector).
type job struct {
	lane     *lane
	products []product
	heads    []*servedHead
	rows     bool
}

// headJobs groups heads by the lane that feeds them, in the order the heads come; extra
// products run first on the main lane (an embedding computed in the same pass).
func headJobs(m *served, heads []*servedHead, extra []product, rows bool) []*job {
	var jobs []*job
	if len(extra) > 0 || rows {
		jobs = append(jobs, &job{lane: m.main, products: extra, heads: make([]*servedHead, len(extra)), rows: rows})
	}
	for _, h := range heads {
		var j *job
		for _, have := range jobs {
			if have.lane == h.lane {
				j = have
			}
		}
		if j == nil {
			j = &job{lane: h.lane}
			jobs = append(jobs, j)
		}
		j.products = append(j.products, headProduct(h))
		j.heads = append(j.heads, h)
	}
	return jobs
}

// runJobs runs every job at once, each lane on its own engine, and returns their results in
// order. The request's statistics are those of its inputs (counted once) with the longest
// stage times of the lanes, which ran side by side.
func (c *Core) runJobs(ctx context.Context, m *served, r *Reservation, jobs []*job, inputs []Input, trunc Truncation) ([]*passResult, Stats, error) {
	results := make([]*passResult, len(jobs))
	errs := make([]error, len(jobs))
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() {
			results[i], errs[i] = c.run(ctx, m, r, j.lane, inputs, trunc, j.products, j.rows)
			if errs[i] != nil {
				cancel(errs[i]) // the other lanes' work is wasted now
			}
		})
	}
	wg.Wait()
	if err := firstFailure(errs, context.Cause(ctx)); err != nil {
		return nil, Stats{}, err
	}
	var st Stats
	for i, res := range results {
		if i == 0 {
			st = res.stats
		}
		st.Tokenize, st.Queue, st.Inference = max(st.Tokenize, res.stats.Tokenize), max(st.Queue, res.stats.Queue),
			max(st.Inference, res.stats.Inference)
	}
	return results, st, nil
}

// firstFailure is the error that cancelled the other jobs (cause), not the cancellations it
// caused; or, when the request itself ended, the first error.
func firstFailure(errs []error, cause error) error {
	var first error
	for _, err := range errs {
		if err != nil && err == cause {
			return err
		}
		if first == nil {
			first = err
		}
	}
	return first
}
