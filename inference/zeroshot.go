package inference

import (
	"context"
	"math"
	"sort"
	"strings"

	"github.com/coldserve/coldserve/tokenizer"
)

// DefaultHypothesisTemplate is Hugging Face's zero-shot-classification default.
const DefaultHypothesisTemplate = "This example is {}."

// ZeroShotRequest asks an NLI head which candidate labels each input is about, as Hugging
// Face's zero-shot-classification pipeline does: every (input, hypothesis) pair is scored,
// where the hypothesis is the template with "{}" replaced by a label.
type ZeroShotRequest struct {
	Inputs          []string
	CandidateLabels []string
	// Template holds "{}" once ("": DefaultHypothesisTemplate).
	Template string
	// MultiLabel scores each label on its own (entailment against contradiction) instead of
	// sharing one probability across the labels.
	MultiLabel bool
	// Head names an NLI head ("": the default head, see Core.DefaultHead). Its labels must
	// include one starting with "entail" and one starting with "contradict", in any case.
	Head string
	// Reserved is the room Reserve held for the request, or nil.
	Reserved *Reservation
}

// ZeroShotResult is one input's labels by descending score.
type ZeroShotResult struct {
	Labels []string
	Scores []float32
}

// ZeroShot is the answer to a ZeroShotRequest.
type ZeroShot struct {
	Model, Checkpoint, Head string
	Results                 []ZeroShotResult // per input
	Stats                   Stats
}

// ZeroShot classifies inputs into candidate labels through an NLI head. All pairs of the
// request go to the engine as one request; the premise (the input) is the side truncation
// cuts, as the pipeline's only_first.
//
// The scores follow the pipeline's postprocess: with one label, or MultiLabel, each label's
// score is the softmax of (contradiction, entailment) logits of its pair; otherwise it is the
// softmax of the entailment logits across the labels of an input.
func (c *Core) ZeroShot(ctx context.Context, req ZeroShotRequest) (*ZeroShot, error) {
	nLabels := len(req.CandidateLabels)
	if nLabels == 0 {
		return nil, errorf(ErrEmptyInput, "candidate_labels is empty: send at least one label")
	}
	if n := len(req.Inputs) * nLabels; len(req.Inputs) > 0 && n > c.opts.MaxClientBatch {
		return nil, errorf(ErrTooManyInputs,
			"%d inputs × %d candidate labels make %d pairs, more than the limit of %d per request (--max-client-batch)",
			len(req.Inputs), nLabels, n, c.opts.MaxClientBatch)
	}
	m, err := c.acquireFor(len(req.Inputs))
	if err != nil {
		return nil, err
	}
	defer m.refs.Release()
	template := req.Template
	if template == "" {
		template = DefaultHypothesisTemplate
	}
	if strings.Count(template, "{}") != 1 {
		return nil, errorf(ErrInvalidInput,
			"hypothesis_template %q must hold \"{}\" exactly once, where the label goes", Clip(template))
	}
	h, err := m.headOrDefault(req.Head, c.opts.DefaultHead)
	if err != nil {
		return nil, err
	}
	entail, contra, err := nliLabels(h)
	if err != nil {
		return nil, err
	}
	pairs := make([]Input, 0, len(req.Inputs)*nLabels)
	for _, text := range req.Inputs {
		for _, label := range req.CandidateLabels {
			pairs = append(pairs, PairInput(text, strings.Replace(template, "{}", label, 1)))
		}
	}
	jobs := headJobs(m, []*servedHead{h}, nil, false)
	results, st, err := c.runJobs(ctx, m, req.Reserved, jobs, pairs, Truncation{Strategy: tokenizer.OnlyFirst})
	if err != nil {
		return nil, err
	}
	logits := results[0].values[0]
	st.Inputs = len(req.Inputs) // each input once, not once per label
	resp := &ZeroShot{Model: m.name, Checkpoint: results[0].checkpoint, Head: h.name, Stats: st,
		Results: make([]ZeroShotResult, len(req.Inputs))}
	for i := range req.Inputs {
		scores := zeroShotScores(logits[i*nLabels:(i+1)*nLabels], entail, contra, req.MultiLabel || nLabels == 1)
		order := make([]int, nLabels)
		for j := range order {
			order[j] = j
		}
		sort.SliceStable(order, func(a, b int) bool { return scores[order[a]] > scores[order[b]] })
		r := ZeroShotResult{Labels: make([]string, nLabels), Scores: make([]float32, nLabels)}
		for k, j := range order {
			r.Labels[k], r.Scores[k] = req.CandidateLabels[j], float32(scores[j])
		}
		resp.Results[i] = r
	}
	return resp, nil
}

// zeroShotScores turns one input's pair logits (one row per candidate label) into label
// scores, in float64 as the pipeline computes them with numpy.
func zeroShotScores(rows [][]float32, entail, contra int, independent bool) []float64 {
	scores := make([]float64, len(rows))
	if independent {
		for j, l := range rows {
			e, c := float64(l[entail]), float64(l[contra])
			hi := math.Max(e, c)
			scores[j] = math.Exp(e-hi) / (math.Exp(e-hi) + math.Exp(c-hi))
		}
		return scores
	}
	hi := math.Inf(-1)
	for _, l := range rows {
		hi = math.Max(hi, float64(l[entail]))
	}
	var sum float64
	for j, l := range rows {
		scores[j] = math.Exp(float64(l[entail]) - hi)
		sum += scores[j]
	}
	for j := range scores {
		scores[j] /= sum
	}
	return scores
}

// nliLabels finds the entailment and contradiction labels of an NLI head, matched by prefix
// ignoring case, as the pipeline matches "entail"; the first match wins.
func nliLabels(h *servedHead) (entail, contra int, err error) {
	entail, contra = -1, -1
	for i, l := range h.head.Labels() {
		low := strings.ToLower(l)
		if entail < 0 && strings.HasPrefix(low, "entail") {
			entail = i
		}
		if contra < 0 && strings.HasPrefix(low, "contradict") {
			contra = i
		}
	}
	if entail < 0 || contra < 0 {
		return 0, 0, errorf(ErrInvalidInput,
			"head %s is not an NLI head: zero-shot needs a label starting with \"entail\" and one starting with \"contradict\" (labels: %s)",
			h.name, strings.Join(h.head.Labels(), ", "))
	}
	return entail, contra, nil
}
