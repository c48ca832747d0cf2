package encoder

import (
	"math"
	"reflect"
	"testing"

	"github.com/coldserve/coldserve/weights"
)

// TestHeadLabelsAndScores covers label order, the fallback names and the score functions.
func TestHeadLabelsAndScores(t *testing.T) {
	ck := sentimentCheckpoint(t)
	h, err := NewHead(ck)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h.Labels(), []string{"negative", "neutral", "positive"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Labels() = %v, want %v", got, want)
	}
	noNames := weights.Generate(readConfig(t, "tiny-roberta"), 7, weights.GenerateOptions{NumLabels: 2})
	h2, err := NewHead(noNames)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := h2.Labels(), []string{"LABEL_0", "LABEL_1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("fallback Labels() = %v, want %v", got, want)
	}
	if h.Logits(make([]float32, h.HiddenSize()+1)) != nil {
		t.Error("Logits accepted a row of the wrong width")
	}

	logits := []float32{1, -2, 0.5}
	cases := []struct {
		problem string
		want    []float64
	}{
		{"", softmax64(logits)},
		{"single_label_classification", softmax64(logits)},
		{"multi_label_classification", []float64{sigmoid(1), sigmoid(-2), sigmoid(0.5)}},
		{"regression", []float64{1, -2, 0.5}},
	}
	for _, c := range cases {
		hc := *h
		hc.problemType = c.problem
		got := hc.Scores(logits)
		for i := range got {
			if math.Abs(float64(got[i])-c.want[i]) > 1e-7 {
				t.Errorf("problem %q: scores %v, want %v", c.problem, got, c.want)
				break
			}
		}
	}
}

func softmax64(z []float32) []float64 {
	var s float64
	out := make([]float64, len(z))
	for i, v := range z {
		out[i] = math.Exp(float64(v))
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
	return out
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// TestHeadOnOwnEncoder runs tiny-roberta-sentiment end to end (its own encoder and head)
// against tiny_sentiment.json: logits and probabilities within 1e-5.
func TestHeadOnOwnEncoder(t *testing.T) {
	g := readGolden(t, "tiny_sentiment.json")
	ck := sentimentCheckpoint(t)
	e := mustEncoder(t, ck, EncoderOptions{})
	h, err := NewHead(ck)
	if err != nil {
		t.Fatal(err)
	}
	var logits, probs maxDiff
	for _, batch := range batchesBySimilarLength(g.Items, 8, 1024) {
		o := forwardItems(t, e, g.Items, batch)
		for j, i := range batch {
			l := h.Logits(o.Hidden(j)[0])
			logits.vec("item "+itoa(i)+" logits", l, g.Items[i].Logits)
			probs.vec("item "+itoa(i)+" probs", h.Scores(l), g.Items[i].Probs)
		}
	}
	logits.check(t, "logits", 1e-5)
	probs.check(t, "probs", 1e-5)
}

// TestNewHeadRejectsIncomplete: a checkpoint without a full classifier is an error.
func TestNewHeadRejectsIncomplete(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(ck *weights.Checkpoint)
	}{
		{"no head", func(ck *weights.Checkpoint) {
			for k := range ck.Tensors {
				if len(k) > 11 && k[:11] == "classifier." {
					delete(ck.Tensors, k)
				}
			}
		}},
		{"no out_proj bias", func(ck *weights.Checkpoint) { delete(ck.Tensors, "classifier.out_proj.bias") }},
		{"out_proj width", func(ck *weights.Checkpoint) {
			ck.Tensors["classifier.out_proj.weight"] = &weights.Tensor{Shape: []int{3, 31}, Data: make([]float32, 93)}
		}},
	}
	for _, c := range cases {
		ck := sentimentCheckpoint(t)
		c.mutate(ck)
		if _, err := NewHead(ck); err == nil {
			t.Errorf("%s: NewHead succeeded", c.name)
		}
	}
	if _, err := NewHead(nil); err == nil {
		t.Error("nil checkpoint: NewHead succeeded")
	}
}
