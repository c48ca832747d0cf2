package inference

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// ClassifyRequest asks a classification head to score each input.
type ClassifyRequest struct {
	Inputs []string
	// Head names the head; it may be empty when exactly one is loaded.
	Head string
	// TopK keeps the k best labels per input (nil: every label; below 1 is refused).
	TopK *int
	// RawScores returns logits instead of softmax (sigmoid for multi-label heads) scores.
	RawScores bool
	// Reserved is the room Reserve held for the request, or nil.
	Reserved *Reservation
}

// LabelScore is one label's score.
type LabelScore struct {
	Label string
	Score float32
}

// Classification is the answer to a ClassifyRequest.
type Classification struct {
	Model, Checkpoint, Head string
	Results                 [][]LabelScore // per input, by descending score
	Stats                   Stats
}

// Classify runs the head's encoder on each input (truncated to the token limit) and scores its
// <s> row. Contexts end as for Embed.
func (c *Core) Classify(ctx context.Context, req ClassifyRequest) (*Classification, error) {
	m, err := c.acquireFor(req.Inputs)
	if err != nil {
		return nil, err
	}
	defer m.refs.Release()
	h, err := m.resolveHead(req.Head)
	if err != nil {
		return nil, err
	}
	labels := h.head.Labels()
	k := len(labels)
	if req.TopK != nil {
		if *req.TopK < 1 {
			return nil, errorf(ErrInvalidInput, "top_k must be at least 1, got %d", *req.TopK)
		}
		k = min(k, *req.TopK)
	}
	out, err := c.compute(ctx, m, req.Reserved, h.lane, req.Inputs, true)
	if err != nil {
		return nil, err
	}
	resp := &Classification{Model: m.name, Checkpoint: out.res.Forwarder.CheckpointID(), Head: h.name,
		Results: make([][]LabelScore, len(out.res.Rows)), Stats: out.stats}
	for i, row := range out.res.Rows {
		logits := h.head.Logits(row.Output.Hidden(row.Index)[0])
		if logits == nil {
			return nil, fmt.Errorf("head %s: the encoder rows do not match its width", h.name)
		}
		scores := logits
		if !req.RawScores {
			scores = h.head.Scores(logits)
		}
		ranked := make([]LabelScore, len(scores))
		for j, sc := range scores {
			ranked[j] = LabelScore{Label: labels[j], Score: sc}
		}
		sort.SliceStable(ranked, func(a, b int) bool { return ranked[a].Score > ranked[b].Score })
		resp.Results[i] = ranked[:k]
	}
	return resp, nil
}

// resolveHead finds the requested head; the name may be omitted when exactly one is loaded.
func (m *served) resolveHead(name string) (*servedHead, error) {
	if name == "" {
		switch len(m.headNames) {
		case 0:
			return nil, errorf(ErrUnknownHead,
				"no classification head is loaded: serve a *ForSequenceClassification checkpoint or add --head NAME=DIR")
		case 1:
			return m.heads[m.headNames[0]], nil
		default:
			return nil, errorf(ErrMissingHead,
				"several heads are loaded, name one in \"head\": %s", strings.Join(m.headNames, ", "))
		}
	}
	h, ok := m.heads[name]
	if !ok {
		if len(m.headNames) == 0 {
			return nil, errorf(ErrUnknownHead, "unknown head %q: no classification head is loaded", Clip(name))
		}
		return nil, errorf(ErrUnknownHead, "unknown head %q (loaded: %s)", Clip(name), strings.Join(m.headNames, ", "))
	}
	return h, nil
}
