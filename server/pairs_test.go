package server

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/coldserve/coldserve/inference"
	"github.com/coldserve/coldserve/internal/fixture"
)

// pairsGolden is testdata/golden/tiny_sentiment_pairs.json: sentence pairs through the tiny
// sentiment model, tokenized and truncated by Hugging Face's rules at two max lengths.
type pairsGolden struct {
	ID2Label map[string]string `json:"id2label"`
	Items    []struct {
		A, B     string
		Logits   map[int][]float64
		Probs    map[int][]float64
		Raw      map[string]any `json:"-"`
		Logits64 []float64      `json:"logits_64"`
		Probs64  []float64      `json:"probs_64"`
		Logit512 []float64      `json:"logits_512"`
		Prob512  []float64      `json:"probs_512"`
	} `json:"items"`
}

func (g *pairsGolden) want(i, maxLen int, raw bool) []float64 {
	it := g.Items[i]
	switch {
	case maxLen == 64 && raw:
		return it.Logits64
	case maxLen == 64:
		return it.Probs64
	case raw:
		return it.Logit512
	}
	return it.Prob512
}

// Every golden pair through /v1/classify, as one batch, at --max-input-tokens 512 and 64
// (longest_first truncation on both sides at 64): probabilities and logits within 1e-5 of
// Hugging Face's.
func TestClassifyPairsMatchGolden(t *testing.T) {
	var g pairsGolden
	readGolden(t, "tiny_sentiment_pairs.json", &g)
	if len(g.Items) != 14 {
		t.Fatalf("%d golden pairs, want 14", len(g.Items))
	}
	labels := []string{g.ID2Label["0"], g.ID2Label["1"], g.ID2Label["2"]}
	inputs := make([]any, len(g.Items))
	for i, it := range g.Items {
		inputs[i] = []string{it.A, it.B}
	}
	for _, maxLen := range []int{512, 64} {
		s := newServer(t, Options{}, inference.ModelConfig{Dir: sentimentDir, MaxInputTokens: maxLen})
		for _, raw := range []bool{false, true} {
			t.Run(fmt.Sprintf("max_length=%d/raw_scores=%v", maxLen, raw), func(t *testing.T) {
				var resp classifyResp
				call(t, s.Handler(), "/v1/classify", map[string]any{"inputs": inputs, "raw_scores": raw}, http.StatusOK, &resp)
				if len(resp.Results) != len(g.Items) {
					t.Fatalf("%d results for %d pairs", len(resp.Results), len(g.Items))
				}
				for i, res := range resp.Results {
					checkRanked(t, g.Items[i].A, res, labels, g.want(i, maxLen, raw))
				}
			})
		}
	}
}

// Pairs and texts mix in one request, and a pair differs from its texts alone.
func TestClassifyMixesPairsAndTexts(t *testing.T) {
	s := newServer(t, Options{CacheBytes: -1}, inference.ModelConfig{Dir: sentimentDir})
	var mixed, pair, text classifyResp
	call(t, s.Handler(), "/v1/classify", map[string]any{"inputs": []any{[]string{"A man eats.", "Someone eats."}, "A man eats."}, "raw_scores": true}, 200, &mixed)
	call(t, s.Handler(), "/v1/classify", map[string]any{"inputs": []any{[]string{"A man eats.", "Someone eats."}}, "raw_scores": true}, 200, &pair)
	call(t, s.Handler(), "/v1/classify", map[string]any{"inputs": "A man eats.", "raw_scores": true}, 200, &text)
	if len(mixed.Results) != 2 {
		t.Fatalf("%d results", len(mixed.Results))
	}
	if d := scoreDiff(mixed.Results[0], pair.Results[0]); d > 1e-6 {
		t.Errorf("the pair in a mixed batch differs by %g from the pair alone", d)
	}
	if d := scoreDiff(mixed.Results[1], text.Results[0]); d > 1e-6 {
		t.Errorf("the text in a mixed batch differs by %g from the text alone", d)
	}
	if d := scoreDiff(pair.Results[0], text.Results[0]); d < 1e-4 {
		t.Errorf("a pair scores like its first text alone (diff %g): the second text was ignored", d)
	}
}

// labelScores is one input's ranked labels as the tests decode them.
type rankedLabels = []struct {
	Label string  `json:"label"`
	Score float32 `json:"score"`
}

// scoreDiff is the largest difference between two rankings' scores, matched by label.
func scoreDiff(a, b rankedLabels) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	byLabel := map[string]float32{}
	for _, r := range b {
		byLabel[r.Label] = r.Score
	}
	var d float64
	for _, r := range a {
		s, ok := byLabel[r.Label]
		if !ok {
			return math.Inf(1)
		}
		d = math.Max(d, math.Abs(float64(r.Score-s)))
	}
	return d
}

// nliLabels are the labels of the NLI head the tests make from the sentiment head.
var nliLabels = []string{"contradiction", "neutral", "entailment"}

// multiHeadServer serves tiny-roberta with three heads: "sentiment" and "nli" (head-only, on
// the served encoder) and "finetuned" (the sentiment checkpoint, on its own encoder).
func multiHeadServer(t *testing.T, opts Options) *Server {
	t.Helper()
	return newServer(t, opts, inference.ModelConfig{Dir: tinyDir, Heads: []inference.HeadSpec{
		{Name: "sentiment", Dir: fixture.HeadDir(t, sentimentDir, []string{"negative", "neutral", "positive"}, "")},
		{Name: "nli", Dir: fixture.HeadDir(t, sentimentDir, nliLabels, "")},
		{Name: "finetuned", Dir: sentimentDir},
	}})
}

type headScoresJSON struct {
	Checkpoint string         `json:"checkpoint"`
	Results    []rankedLabels `json:"results"`
}

// Heads that run on the same encoder share one forward pass, in /v1/classify with "heads" and
// in /v1/embed with "classify"; their results equal separate requests within 1e-6. A head on
// its own encoder costs its own pass.
func TestSeveralHeadsShareOnePass(t *testing.T) {
	s := multiHeadServer(t, Options{CacheBytes: -1}) // the separate requests must compute too
	h := s.Handler()
	texts := []any{"what a lovely day", []string{"A man eats.", "Someone eats."}, "the worst film ever"}
	plain := []string{"what a lovely day", "the worst film ever"}

	separate := map[string]classifyResp{}
	for _, head := range []string{"sentiment", "nli", "finetuned"} {
		var r classifyResp
		call(t, h, "/v1/classify", map[string]any{"inputs": texts, "head": head}, 200, &r)
		separate[head] = r
	}
	check := func(t *testing.T, got map[string]headScoresJSON, heads ...string) {
		t.Helper()
		if len(got) != len(heads) {
			t.Fatalf("%d heads answered, want %v", len(got), heads)
		}
		for _, head := range heads {
			want := separate[head]
			g, ok := got[head]
			if !ok || g.Checkpoint != want.Checkpoint || len(g.Results) != len(want.Results) {
				t.Fatalf("head %s: %+v, want checkpoint %s and %d results", head, g, want.Checkpoint, len(want.Results))
			}
			for i := range want.Results {
				if d := scoreDiff(g.Results[i], want.Results[i]); d > 1e-6 {
					t.Errorf("head %s input %d differs by %g from a separate request", head, i, d)
				}
			}
		}
	}

	t.Run("classify two heads", func(t *testing.T) {
		before := forwardPasses(t, s)
		var r struct {
			Heads map[string]headScoresJSON `json:"heads"`
		}
		call(t, h, "/v1/classify", map[string]any{"inputs": texts, "heads": []string{"sentiment", "nli"}}, 200, &r)
		if n := forwardPasses(t, s) - before; n != 1 {
			t.Errorf("%d forward passes for two heads on one encoder, want 1", n)
		}
		check(t, r.Heads, "sentiment", "nli")
	})
	t.Run("every head", func(t *testing.T) {
		before := forwardPasses(t, s)
		var r struct {
			Heads map[string]headScoresJSON `json:"heads"`
		}
		call(t, h, "/v1/classify", map[string]any{"inputs": texts, "heads": "*"}, 200, &r)
		if n := forwardPasses(t, s) - before; n != 2 {
			t.Errorf("%d forward passes for heads on two encoders, want 2", n)
		}
		check(t, r.Heads, "sentiment", "nli", "finetuned")
	})
	t.Run("embed and classify", func(t *testing.T) {
		var alone embedResp
		call(t, h, "/v1/embed", map[string]any{"inputs": plain}, 200, &alone)
		before := forwardPasses(t, s)
		var both struct {
			embedResp
			Classifications map[string]headScoresJSON `json:"classifications"`
		}
		call(t, h, "/v1/embed", map[string]any{"inputs": plain, "classify": []string{"sentiment", "nli"}}, 200, &both)
		if n := forwardPasses(t, s) - before; n != 1 {
			t.Errorf("%d forward passes for embed + two heads, want 1", n)
		}
		for i, v := range both.Embeddings {
			if d := maxAbs(v, float64s(alone.Embeddings[i])); d > 1e-6 || both.Checkpoint != alone.Checkpoint {
				t.Errorf("vector %d differs by %g from embed alone", i, d)
			}
		}
		for _, head := range []string{"sentiment", "nli"} {
			var want classifyResp
			call(t, h, "/v1/classify", map[string]any{"inputs": plain, "head": head}, 200, &want)
			got := both.Classifications[head]
			if len(got.Results) != len(plain) || got.Checkpoint != want.Checkpoint {
				t.Fatalf("head %s: %+v", head, got)
			}
			for i := range plain {
				if d := scoreDiff(got.Results[i], want.Results[i]); d > 1e-6 {
					t.Errorf("head %s input %d differs by %g from /v1/classify", head, i, d)
				}
			}
		}
	})
}

func float64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// hypotheses renders the zero-shot pairs of one input as the HF pipeline does.
func hypotheses(text, template string, labels []string) []any {
	out := make([]any, len(labels))
	for i, l := range labels {
		out[i] = []string{text, strings.Replace(template, "{}", l, 1)}
	}
	return out
}

// Zero-shot follows the HF pipeline's formula on the NLI head's logits, which the test reads
// from /v1/classify on the same pairs (cut only_first, as the pipeline does): softmax of the
// entailment logits across the labels, or with multi_label (or a single label) per label the
// softmax of (contradiction, entailment).
func TestZeroShotFollowsThePipeline(t *testing.T) {
	s := newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir, MaxInputTokens: 32, Heads: []inference.HeadSpec{
		{Name: "nli", Dir: fixture.HeadDir(t, sentimentDir, nliLabels, "")}}})
	h := s.Handler()
	inputs := []string{"The battery of the new phone lasts two days.", strings.Repeat("A long premise that must be cut. ", 8)}
	tests := []struct {
		name     string
		labels   []string
		template string
		multi    bool
	}{
		{"single label", []string{"technology", "sports", "politics"}, "", false},
		{"multi label", []string{"technology", "sports", "politics"}, "", true},
		{"one candidate", []string{"cooking"}, "", false},
		{"own template", []string{"good news", "bad news"}, "This text is {}.", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := map[string]any{"inputs": inputs, "candidate_labels": tt.labels, "multi_label": tt.multi}
			template := "This example is {}."
			if tt.template != "" {
				body["hypothesis_template"], template = tt.template, tt.template
			}
			var got struct {
				Head    string `json:"head"`
				Results []struct {
					Sequence string    `json:"sequence"`
					Labels   []string  `json:"labels"`
					Scores   []float32 `json:"scores"`
				} `json:"results"`
			}
			call(t, h, "/v1/zero-shot", body, 200, &got)
			if got.Head != "nli" || len(got.Results) != len(inputs) {
				t.Fatalf("head %q, %d results", got.Head, len(got.Results))
			}
			for i, text := range inputs {
				var logits classifyResp
				call(t, h, "/v1/classify", map[string]any{"inputs": hypotheses(text, template, tt.labels),
					"raw_scores": true, "truncation_strategy": "only_first"}, 200, &logits)
				want := map[string]float64{}
				var sum float64
				for j, l := range tt.labels {
					e, c := labelScore(t, logits.Results[j], "entailment"), labelScore(t, logits.Results[j], "contradiction")
					if tt.multi || len(tt.labels) == 1 {
						want[l] = math.Exp(e) / (math.Exp(e) + math.Exp(c))
					} else {
						want[l] = math.Exp(e)
						sum += want[l]
					}
				}
				if sum > 0 {
					for l := range want {
						want[l] /= sum
					}
				}
				r := got.Results[i]
				if r.Sequence != text || len(r.Labels) != len(tt.labels) {
					t.Fatalf("result %d: %+v", i, r)
				}
				for j, l := range r.Labels {
					if j > 0 && r.Scores[j] > r.Scores[j-1] {
						t.Errorf("result %d not sorted: %v", i, r.Scores)
					}
					if d := math.Abs(float64(r.Scores[j]) - want[l]); d > 1e-6 {
						t.Errorf("input %d label %q: %g, pipeline formula %g", i, l, r.Scores[j], want[l])
					}
				}
			}
		})
	}
}

// labelScore is the score of label in one ranking.
func labelScore(t *testing.T, ranked rankedLabels, label string) float64 {
	t.Helper()
	for _, r := range ranked {
		if r.Label == label {
			return float64(r.Score)
		}
	}
	t.Fatalf("no label %q in %+v", label, ranked)
	return 0
}

// /v1/rerank scores (query, text) pairs: the sigmoid of a one-label head's logit, or a named
// label's score; texts come back by descending score, cut to top_n, with their text on request.
func TestRerank(t *testing.T) {
	s := newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir, Heads: []inference.HeadSpec{
		{Name: "relevance", Dir: fixture.HeadDir(t, sentimentDir, []string{"relevant"}, "")},
		{Name: "nli", Dir: fixture.HeadDir(t, sentimentDir, nliLabels, "")},
	}})
	h := s.Handler()
	query := "What is ColD Fusion?"
	texts := []string{"ColD Fusion recycles finetuned models.", "Paris is in France.", "A cold day in winter.", "Fusion of models"}
	pairs := make([]any, len(texts))
	for i, x := range texts {
		pairs[i] = []string{query, x}
	}
	type rerankResp struct {
		Head, Label string
		Results     []struct {
			Index int     `json:"index"`
			Score float32 `json:"score"`
			Text  *string `json:"text"`
		} `json:"results"`
	}
	tests := []struct {
		name  string
		body  map[string]any
		score func(i int) float64 // the expected score of text i
		n     int
	}{
		{"one-label head", map[string]any{"head": "relevance"}, func(i int) float64 {
			return 1 / (1 + math.Exp(-classifyScore(t, h, "relevance", pairs[i], true, "relevant")))
		}, 4},
		{"raw scores", map[string]any{"head": "relevance", "raw_scores": true}, func(i int) float64 {
			return classifyScore(t, h, "relevance", pairs[i], true, "relevant")
		}, 4},
		{"NLI head, entailment", map[string]any{"head": "nli", "label": "Entailment", "top_n": 2, "return_text": true}, func(i int) float64 {
			return classifyScore(t, h, "nli", pairs[i], false, "entailment")
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.body["query"], tt.body["texts"] = query, texts
			var got rerankResp
			call(t, h, "/v1/rerank", tt.body, 200, &got)
			if len(got.Results) != tt.n {
				t.Fatalf("%d results, want %d", len(got.Results), tt.n)
			}
			for j, r := range got.Results {
				if j > 0 && r.Score > got.Results[j-1].Score {
					t.Errorf("not sorted: %+v", got.Results)
				}
				if d := math.Abs(float64(r.Score) - tt.score(r.Index)); d > 1e-6 {
					t.Errorf("text %d: score %g, want %g", r.Index, r.Score, tt.score(r.Index))
				}
				if withText := tt.body["return_text"] == true; withText != (r.Text != nil) || (withText && *r.Text != texts[r.Index]) {
					t.Errorf("text %d: returned text %v", r.Index, r.Text)
				}
			}
		})
	}
}

// classifyScore is one input's score for label through /v1/classify.
func classifyScore(t *testing.T, h http.Handler, head string, input any, raw bool, label string) float64 {
	t.Helper()
	var r classifyResp
	call(t, h, "/v1/classify", map[string]any{"inputs": []any{input}, "head": head, "raw_scores": raw}, 200, &r)
	return labelScore(t, r.Results[0], label)
}

// Bad pair, head, rerank and zero-shot requests get 4xx answers that say what to fix.
func TestClassificationRefusals(t *testing.T) {
	s := multiHeadServer(t, Options{})
	h := s.Handler()
	long := strings.Repeat("word ", 600)
	tests := []struct {
		name, path string
		body       any
		status     int
		code, msg  string
	}{
		{"head and heads", "/v1/classify", map[string]any{"inputs": "a", "head": "nli", "heads": []string{"nli"}}, 400, CodeInvalidArgument, "not both"},
		{"star among names", "/v1/classify", map[string]any{"inputs": "a", "heads": []string{"*", "nli"}}, 400, CodeInvalidArgument, "stands alone"},
		{"head twice", "/v1/classify", map[string]any{"inputs": "a", "heads": []string{"nli", "nli"}}, 400, CodeInvalidArgument, "twice"},
		{"unknown head in heads", "/v1/classify", map[string]any{"inputs": "a", "heads": []string{"nli", "x"}}, 404, CodeUnknownHead, "x"},
		{"no head, several loaded", "/v1/classify", map[string]any{"inputs": "a"}, 400, CodeMissingHead, "several heads"},
		{"a pair of three", "/v1/classify", map[string]any{"inputs": []any{[]string{"a", "b", "c"}}, "head": "nli"}, 400, CodeInvalidJSON, "pair"},
		{"bad strategy", "/v1/classify", map[string]any{"inputs": "a", "head": "nli", "truncation_strategy": "middle"}, 400, CodeInvalidArgument, "truncation_strategy"},
		{"bad direction", "/v1/classify", map[string]any{"inputs": "a", "head": "nli", "truncation_direction": "up"}, 400, CodeInvalidJSON, "truncation_direction"},
		{"only_second, second too short", "/v1/classify", map[string]any{"inputs": []any{[]string{long, "short"}}, "head": "nli", "truncation_strategy": "only_second"}, 400, CodeInvalidArgument, "longest_first"},
		{"pair too long, truncate false", "/v1/classify", map[string]any{"inputs": []any{[]string{long, "short"}}, "head": "nli", "truncate": false}, 422, CodeInputTooLong, "tokens"},
		{"embed classify unknown head", "/v1/embed", map[string]any{"inputs": "a", "classify": []string{"x"}}, 404, CodeUnknownHead, "x"},
		{"rerank no texts", "/v1/rerank", map[string]any{"query": "q", "texts": []string{}, "head": "nli", "label": "entailment"}, 400, CodeEmptyInput, "empty"},
		{"rerank label missing", "/v1/rerank", map[string]any{"query": "q", "texts": []string{"t"}, "head": "nli"}, 400, CodeInvalidArgument, "label"},
		{"rerank unknown label", "/v1/rerank", map[string]any{"query": "q", "texts": []string{"t"}, "head": "nli", "label": "relevant"}, 400, CodeInvalidArgument, "entailment"},
		{"rerank top_n 0", "/v1/rerank", map[string]any{"query": "q", "texts": []string{"t"}, "head": "nli", "label": "entailment", "top_n": 0}, 400, CodeInvalidArgument, "top_n"},
		{"zero-shot no labels", "/v1/zero-shot", map[string]any{"inputs": "a", "candidate_labels": []string{}, "head": "nli"}, 400, CodeEmptyInput, "candidate_labels"},
		{"zero-shot template without {}", "/v1/zero-shot", map[string]any{"inputs": "a", "candidate_labels": "x,y", "head": "nli", "hypothesis_template": "About it."}, 400, CodeInvalidArgument, "{}"},
		{"zero-shot head not NLI", "/v1/zero-shot", map[string]any{"inputs": "a", "candidate_labels": "x,y", "head": "sentiment"}, 400, CodeInvalidArgument, "entail"},
		{"zero-shot too many pairs", "/v1/zero-shot", map[string]any{"inputs": []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}, "candidate_labels": strings.Split("a,b,c,d,e,f,g,h", ","), "head": "nli"}, 413, CodeTooManyInputs, "pairs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, raw := do(t, h, http.MethodPost, tt.path, tt.body)
			if code != tt.status || !strings.Contains(string(raw), tt.code) || !strings.Contains(string(raw), tt.msg) {
				t.Errorf("%d %s, want %d %s mentioning %q", code, raw, tt.status, tt.code, tt.msg)
			}
		})
	}
}
