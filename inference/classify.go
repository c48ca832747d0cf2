package inference

import (
	"context"
	"math"
	"sort"
	"strings"
)

// ClassifyRequest asks classification heads to score each input.
type ClassifyRequest struct {
	// Inputs are texts, sentence pairs (for heads finetuned on pairs: NLI, paraphrase,
	// question answering) or token ids.
	Inputs []Input
	// Heads names the heads to run; every head that runs on the same encoder shares one
	// forward pass. Empty selects the default head (see Core.DefaultHead); ["*"] every head.
	Heads []string
	// TopK keeps the k best labels per input and head (nil: every label; below 1 is refused).
	TopK *int
	// RawScores returns logits instead of softmax (sigmoid for multi-label heads) scores.
	RawScores  bool
	Truncation Truncation
	// Reserved is the room Reserve held for the request, or nil.
	Reserved *Reservation
}

// LabelScore is one label's score.
type LabelScore struct {
	Label string
	Score float32
}

// HeadResult is one head's answer for every input of a request.
type HeadResult struct {
	Head       string
	Checkpoint string         // the encoder checkpoint that fed the head
	Results    [][]LabelScore // per input, by descending score
}

// Classification is the answer to a ClassifyRequest.
type Classification struct {
	Model string
	Heads []HeadResult // in the order the request named them (by name for "*")
	Stats Stats
}

// Classify runs each head's encoder on the inputs (cut to the token limit as req.Truncation
// says) and scores their <s> rows, one forward pass per encoder. Contexts end as for Embed.
func (c *Core) Classify(ctx context.Context, req ClassifyRequest) (*Classification, error) {
	m, err := c.acquireFor(len(req.Inputs))
	if err != nil {
		return nil, err
	}
	defer m.refs.Release()
	if err := validTruncation(req.Truncation); err != nil {
		return nil, err
	}
	heads, err := m.resolveHeads(req.Heads, c.opts.DefaultHead)
	if err != nil {
		return nil, err
	}
	if req.TopK != nil && *req.TopK < 1 {
		return nil, errorf(ErrInvalidInput, "top_k must be at least 1, got %d", *req.TopK)
	}
	jobs := headJobs(m, heads, nil, false)
	results, st, err := c.runJobs(ctx, m, req.Reserved, jobs, req.Inputs, req.Truncation)
	if err != nil {
		return nil, err
	}
	return &Classification{Model: m.name, Heads: headResults(heads, jobs, results, req.RawScores, req.TopK), Stats: st}, nil
}

// headResults ranks every head's logits, in the order of heads.
func headResults(heads []*servedHead, jobs []*job, results []*passResult, raw bool, topK *int) []HeadResult {
	byHead := map[*servedHead]HeadResult{}
	for j, jb := range jobs {
		for p, h := range jb.heads {
			if h == nil {
				continue // a pooled vector
			}
			hr := HeadResult{Head: h.name, Checkpoint: results[j].checkpoint, Results: make([][]LabelScore, len(results[j].values[p]))}
			for i, logits := range results[j].values[p] {
				hr.Results[i] = rank(h, logits, raw, topK)
			}
			byHead[h] = hr
		}
	}
	out := make([]HeadResult, len(heads))
	for i, h := range heads {
		out[i] = byHead[h]
	}
	return out
}

// rank turns one input's logits into labels by descending score: softmax (sigmoid for
// multi-label heads) scores, or the logits themselves with raw; the best topK (nil: all).
func rank(h *servedHead, logits []float32, raw bool, topK *int) []LabelScore {
	scores := logits
	if !raw {
		scores = h.head.Scores(logits)
	}
	labels := h.head.Labels()
	ranked := make([]LabelScore, len(scores))
	for j, sc := range scores {
		ranked[j] = LabelScore{Label: labels[j], Score: sc}
	}
	sort.SliceStable(ranked, func(a, b int) bool { return ranked[a].Score > ranked[b].Score })
	if topK != nil {
		ranked = ranked[:min(len(ranked), *topK)]
	}
	return ranked
}

// resolveHeads finds the heads a request names: none (the default head), ["*"] (every head,
// by name) or a list of distinct names.
func (m *served) resolveHeads(names []string, defaultHead string) ([]*servedHead, error) {
	switch {
	case len(names) == 0:
		h, err := m.defaultHead(defaultHead)
		if err != nil {
			return nil, err
		}
		return []*servedHead{h}, nil
	case len(names) == 1 && names[0] == "*":
		if len(m.headNames) == 0 {
			return nil, errNoHeads
		}
		out := make([]*servedHead, len(m.headNames))
		for i, n := range m.headNames {
			out[i] = m.heads[n]
		}
		return out, nil
	}
	out := make([]*servedHead, 0, len(names))
	seen := map[string]bool{}
	for _, name := range names {
		switch {
		case name == "*":
			return nil, errorf(ErrInvalidInput, "heads: \"*\" stands alone, for every head; it cannot be listed with names")
		case seen[name]:
			return nil, errorf(ErrInvalidInput, "heads: %q is named twice", Clip(name))
		}
		seen[name] = true
		h, err := m.head(name)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

var errNoHeads = errorf(ErrUnknownHead,
	"no classification head is loaded: serve a *ForSequenceClassification checkpoint or add --head NAME=DIR")

// defaultHead is the head of a request that names none: the one the server was told to use
// (--default-head), else the served checkpoint's own head, else the only head loaded.
func (m *served) defaultHead(configured string) (*servedHead, error) {
	if configured != "" {
		if h, ok := m.heads[configured]; ok {
			return h, nil
		}
		return nil, errorf(ErrUnknownHead, "the default head %q (--default-head) is not loaded (loaded: %s)",
			Clip(configured), headList(m.headNames))
	}
	if h, ok := m.heads[m.ownHead]; ok {
		return h, nil
	}
	switch len(m.headNames) {
	case 0:
		return nil, errNoHeads
	case 1:
		return m.heads[m.headNames[0]], nil
	}
	return nil, errorf(ErrMissingHead, "several heads are loaded, name one in \"head\": %s", headList(m.headNames))
}

// head finds a head by name.
func (m *served) head(name string) (*servedHead, error) {
	if h, ok := m.heads[name]; ok {
		return h, nil
	}
	if len(m.headNames) == 0 {
		return nil, errorf(ErrUnknownHead, "unknown head %q: no classification head is loaded", Clip(name))
	}
	return nil, errorf(ErrUnknownHead, "unknown head %q (loaded: %s)", Clip(name), headList(m.headNames))
}

// headOrDefault is the named head, or the default head when name is empty.
func (m *served) headOrDefault(name, configured string) (*servedHead, error) {
	if name == "" {
		return m.defaultHead(configured)
	}
	return m.head(name)
}

func headList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// DefaultHead describes the head a request that names none runs on: the head --default-head
// names, else the served checkpoint's own head, else the only head loaded. TEI's /predict and
// /rerank have no head parameter and use it; it fails with ErrUnknownHead when no head is
// loaded and ErrMissingHead when the choice is ambiguous.
func (c *Core) DefaultHead() (HeadInfo, error) {
	m, err := c.ready()
	if err != nil {
		return HeadInfo{}, err
	}
	h, err := m.defaultHead(c.opts.DefaultHead)
	if err != nil {
		return HeadInfo{}, err
	}
	return headInfo(h), nil
}

// sigmoid is the logistic function, computed in float64.
func sigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }
