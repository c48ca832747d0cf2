package encoder

import (
	"fmt"
	"math"

	"github.com/coldserve/coldserve/weights"
)

// Head is HF's RobertaClassificationHead: on the <s> row x,
// logits = out_proj(tanh(dense(x))). Dropout is the identity at inference.
// It is immutable and safe for concurrent use.
type Head struct {
	hidden, numLabels int
	denseW, denseB    []float32 // [hidden, hidden], [hidden]
	outW, outB        []float32 // [labels, hidden], [labels]
	labels            []string
	problemType       string
}

// NewHead takes classifier.dense.* and classifier.out_proj.* from ck: a full finetuned
// checkpoint (RobertaForSequenceClassification) or a head-only one. The head can then run
// on the encoder it was trained with or on any encoder of the same hidden size.
// Labels come from the config's id2label in index order ("LABEL_i" where missing).
func NewHead(ck *weights.Checkpoint) (*Head, error) {
	if ck == nil {
		return nil, fmt.Errorf("new head: nil checkpoint")
	}
	dw, ok := ck.Tensors["classifier.dense.weight"]
	if !ok || len(dw.Shape) != 2 || dw.Shape[0] != dw.Shape[1] {
		return nil, fmt.Errorf("new head: classifier.dense.weight missing or not square")
	}
	h := dw.Shape[0]
	ow, ok := ck.Tensors["classifier.out_proj.weight"]
	if !ok || len(ow.Shape) != 2 || ow.Shape[1] != h || ow.Shape[0] <= 0 {
		return nil, fmt.Errorf("new head: classifier.out_proj.weight missing or not [labels, %d]", h)
	}
	n := ow.Shape[0]
	g := &tensorGetter{ck: ck}
	hd := &Head{
		hidden: h, numLabels: n,
		denseW:      g.get("classifier.dense.weight", h, h),
		denseB:      g.get("classifier.dense.bias", h),
		outW:        g.get("classifier.out_proj.weight", n, h),
		outB:        g.get("classifier.out_proj.bias", n),
		problemType: ck.Config.ProblemType,
	}
	if g.err != nil {
		return nil, fmt.Errorf("new head: %w", g.err)
	}
	if ck.Config.HiddenSize != 0 && ck.Config.HiddenSize != h {
		return nil, fmt.Errorf("new head: classifier width %d, config hidden size %d", h, ck.Config.HiddenSize)
	}
	hd.labels = ck.Config.Labels(n)
	return hd, nil
}

// HiddenSize is the width of the rows the head reads; it must equal the encoder's.
func (h *Head) HiddenSize() int { return h.hidden }

// Labels are the class names in logit order.
func (h *Head) Labels() []string { return append([]string(nil), h.labels...) }

// ProblemType is the config's problem_type ("" when unset).
func (h *Head) ProblemType() string { return h.problemType }

// Logits runs the head on a sequence's <s> row. It returns nil if the row's width is not
// the head's HiddenSize (check it once when attaching the head to an encoder).
func (h *Head) Logits(hiddenRow0 []float32) []float32 {
	if len(hiddenRow0) != h.hidden {
		return nil
	}
	mid := make([]float32, h.hidden)
	matVecTanh(mid, h.denseW, h.denseB, hiddenRow0)
	out := make([]float32, h.numLabels)
	matVec(out, h.outW, h.outB, mid)
	return out
}

// Scores turns logits into scores as HF's text-classification pipeline does: the logits
// unchanged for problem_type regression; an independent sigmoid per label for
// multi_label_classification or a single-logit head; otherwise softmax over the labels.
func (h *Head) Scores(logits []float32) []float32 {
	out := make([]float32, len(logits))
	switch {
	case h.problemType == "regression":
		copy(out, logits)
		return out
	case h.problemType == "multi_label_classification" || len(logits) == 1:
		for i, z := range logits {
			out[i] = float32(1 / (1 + math.Exp(-float64(z))))
		}
		return out
	case len(logits) == 0:
		return out
	}
	maxv := math.Inf(-1)
	for _, z := range logits {
		maxv = math.Max(maxv, float64(z))
	}
	var sum float64
	for _, z := range logits {
		sum += math.Exp(float64(z) - maxv)
	}
	for i, z := range logits {
		out[i] = float32(math.Exp(float64(z)-maxv) / sum)
	}
	return out
}
