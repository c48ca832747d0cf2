package inference

import (
	"context"
	"sort"
	"strings"
)

// RerankRequest asks a cross-encoder head to score (query, text) pairs.
type RerankRequest struct {
	Query string
	Texts []string
	// Head names the head ("": the default head, see Core.DefaultHead).
	Head string
	// Label is the label whose score ranks, for a head of several labels (an NLI head:
	// "entailment"); a one-label head needs none.
	Label string
	// TopN keeps the N best texts (0: all).
	TopN int
	// RawScores ranks by the logit instead of the score (sigmoid of a one-label head; the
	// label's softmax, or sigmoid for multi-label heads, otherwise).
	RawScores  bool
	Truncation Truncation
	// Reserved is the room Reserve held for the request, or nil.
	Reserved *Reservation
}

// Rank is one text of a Ranking.
type Rank struct {
	Index int // in RerankRequest.Texts
	Score float32
}

// Ranking is the answer to a RerankRequest: texts by descending score.
type Ranking struct {
	Model, Checkpoint, Head, Label string
	Ranks                          []Rank
	Stats                          Stats
}

// Rerank scores every (query, text) pair with a head, in one engine request (pairs are
// encoded <s> query </s></s> text </s>, and cut as req.Truncation says), and sorts the texts
// by score.
func (c *Core) Rerank(ctx context.Context, req RerankRequest) (*Ranking, error) {
	m, err := c.acquireFor(len(req.Texts))
	if err != nil {
		return nil, err
	}
	defer m.refs.Release()
	if err := validTruncation(req.Truncation); err != nil {
		return nil, err
	}
	if req.TopN < 0 {
		return nil, errorf(ErrInvalidInput, "top_n must not be negative, got %d", req.TopN)
	}
	h, err := m.headOrDefault(req.Head, c.opts.DefaultHead)
	if err != nil {
		return nil, err
	}
	label, err := rankLabel(h, req.Label)
	if err != nil {
		return nil, err
	}
	inputs := make([]Input, len(req.Texts))
	for i, t := range req.Texts {
		inputs[i] = PairInput(req.Query, t)
	}
	jobs := headJobs(m, []*servedHead{h}, nil, false)
	results, st, err := c.runJobs(ctx, m, req.Reserved, jobs, inputs, req.Truncation)
	if err != nil {
		return nil, err
	}
	ranks := make([]Rank, len(inputs))
	for i, logits := range results[0].values[0] {
		ranks[i] = Rank{Index: i, Score: rankScore(h, logits, label, req.RawScores)}
	}
	sort.SliceStable(ranks, func(a, b int) bool { return ranks[a].Score > ranks[b].Score })
	if req.TopN > 0 {
		ranks = ranks[:min(req.TopN, len(ranks))]
	}
	resp := &Ranking{Model: m.name, Checkpoint: results[0].checkpoint, Head: h.name, Ranks: ranks, Stats: st}
	if label >= 0 {
		resp.Label = h.head.Labels()[label]
	}
	return resp, nil
}

// rankLabel finds the index of the label that ranks: -1 for a one-label head (its only
// logit), else the named label, matched exactly or, failing that, ignoring case.
func rankLabel(h *servedHead, name string) (int, error) {
	labels := h.head.Labels()
	if len(labels) == 1 {
		if name != "" && !strings.EqualFold(name, labels[0]) {
			return 0, errorf(ErrInvalidInput, "label %q: head %s has the one label %q", Clip(name), h.name, labels[0])
		}
		return -1, nil
	}
	if name == "" {
		return 0, errorf(ErrInvalidInput,
			"head %s has %d labels (%s): name the one that means relevant in \"label\", or use a one-label cross-encoder head",
			h.name, len(labels), strings.Join(labels, ", "))
	}
	if i, err := labelIndex(h, name); err == nil {
		return i, nil
	}
	return 0, errorf(ErrInvalidInput, "label %q is not one of head %s's labels: %s", Clip(name), h.name, strings.Join(labels, ", "))
}

// labelIndex finds a label by name: exactly, else ignoring case when that is unambiguous.
func labelIndex(h *servedHead, name string) (int, error) {
	labels := h.head.Labels()
	folded := -1
	for i, l := range labels {
		if l == name {
			return i, nil
		}
		if strings.EqualFold(l, name) {
			if folded >= 0 {
				return 0, errorf(ErrInvalidInput, "label %q matches several labels of head %s", Clip(name), h.name)
			}
			folded = i
		}
	}
	if folded < 0 {
		return 0, errorf(ErrInvalidInput, "no label %q in head %s", Clip(name), h.name)
	}
	return folded, nil
}

// rankScore is one pair's relevance: a one-label head's sigmoid (label -1), or the label's
// score as Classify gives it; the logit itself with raw.
func rankScore(h *servedHead, logits []float32, label int, raw bool) float32 {
	if label < 0 {
		if raw {
			return logits[0]
		}
		return sigmoid(logits[0])
	}
	if raw {
		return logits[label]
	}
	return h.head.Scores(logits)[label]
}
