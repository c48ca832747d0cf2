package server

import (
	"path/filepath"
	"strconv"
	"testing"

	"github.com/coldserve/coldserve/inference"
	"github.com/coldserve/coldserve/weights"
)

// A RobertaForSequenceClassification checkpoint served as the model exposes its head
// automatically; logits and softmax probabilities match Hugging Face end to end.
func TestClassifyMatchesGolden(t *testing.T) {
	var g sentimentGolden
	readGolden(t, "tiny_sentiment.json", &g)
	s := newServer(t, Options{}, inference.ModelConfig{Dir: sentimentDir})
	h := s.Handler()
	labels := []string{g.ID2Label["0"], g.ID2Label["1"], g.ID2Label["2"]}
	texts := make([]string, len(g.Items))
	for i, it := range g.Items {
		texts[i] = it.Text
	}
	for _, raw := range []bool{true, false} {
		t.Run("raw_scores="+strconv.FormatBool(raw), func(t *testing.T) {
			for _, c := range chunks(len(texts), 64) {
				var resp classifyResp
				call(t, h, "/v1/classify", map[string]any{"inputs": texts[c[0]:c[1]], "raw_scores": raw}, 200, &resp)
				if resp.Head != "tiny-roberta-sentiment" || resp.Model != "tiny-roberta-sentiment" {
					t.Fatalf("head %q model %q", resp.Head, resp.Model)
				}
				for i, res := range resp.Results {
					it := g.Items[c[0]+i]
					want := it.Probs
					if raw {
						want = it.Logits
					}
					checkRanked(t, it.Text, res, labels, want)
				}
			}
		})
	}
}

// checkRanked asserts that res holds every label once, sorted by descending score, with the
// score of each label within 1e-5 of want (indexed like labels).
func checkRanked(t *testing.T, text string, res []struct {
	Label string  `json:"label"`
	Score float32 `json:"score"`
}, labels []string, want []float64) {
	t.Helper()
	if len(res) != len(labels) {
		t.Fatalf("%q: %d labels, want %d", text, len(res), len(labels))
	}
	for j, r := range res {
		if j > 0 && r.Score > res[j-1].Score {
			t.Errorf("%q: results not sorted: %+v", text, res)
		}
		idx := -1
		for k, l := range labels {
			if l == r.Label {
				idx = k
			}
		}
		if idx < 0 {
			t.Fatalf("%q: unknown label %q", text, r.Label)
		}
		if d := maxAbs([]float32{r.Score}, want[idx:idx+1]); d > 1e-5 {
			t.Errorf("%q: %s score %g, HF %g", text, r.Label, r.Score, want[idx])
		}
	}
}

// --head NAME=DIR with a head-only checkpoint attaches the head to the served encoder (golden:
// tiny.json's head_logits.sentiment); a full finetuned checkpoint runs on its own encoder
// (golden: tiny_sentiment.json), while /v1/embed keeps serving the main encoder.
func TestClassifyExtraHeads(t *testing.T) {
	var tiny tinyGolden
	readGolden(t, "tiny.json", &tiny)
	var senti sentimentGolden
	readGolden(t, "tiny_sentiment.json", &senti)
	labels := []string{"negative", "neutral", "positive"}

	headCk, err := weights.LoadHead(t.Context(), sentimentDir)
	if err != nil {
		t.Fatal(err)
	}
	headOnly := filepath.Join(t.TempDir(), "sentiment-head")
	if err := weights.SaveDir(headOnly, headCk); err != nil {
		t.Fatal(err)
	}
	s := newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir, Heads: []inference.HeadSpec{
		{Name: "attached", Dir: headOnly},
		{Name: "finetuned", Dir: sentimentDir},
	}})
	h := s.Handler()

	var models struct {
		Models []struct {
			Checkpoint string `json:"checkpoint"`
			Heads      []struct {
				Name       string   `json:"name"`
				Labels     []string `json:"labels"`
				Checkpoint string   `json:"checkpoint"`
			} `json:"heads"`
		} `json:"models"`
	}
	call(t, h, "/v1/models", nil, 200, &models)
	mainID := models.Models[0].Checkpoint
	heads := models.Models[0].Heads
	if len(heads) != 2 || heads[0].Name != "attached" || heads[1].Name != "finetuned" {
		t.Fatalf("heads %+v", heads)
	}
	if heads[0].Checkpoint != mainID || heads[1].Checkpoint == mainID {
		t.Errorf("head checkpoints %s and %s, main %s: want attached on main, finetuned on its own", heads[0].Checkpoint, heads[1].Checkpoint, mainID)
	}

	const n = 20
	texts := make([]string, n)
	for i := range texts {
		texts[i] = tiny.Items[i].Text
		if senti.Items[i].Text != texts[i] {
			t.Fatalf("goldens disagree on text %d", i)
		}
	}
	var attached classifyResp
	call(t, h, "/v1/classify", map[string]any{"inputs": texts, "head": "attached", "raw_scores": true}, 200, &attached)
	if attached.Checkpoint != mainID {
		t.Errorf("attached head ran on %s, want the main encoder %s", attached.Checkpoint, mainID)
	}
	for i, res := range attached.Results {
		checkRanked(t, texts[i], res, labels, tiny.Items[i].HeadLogits["sentiment"])
	}
	var finetuned classifyResp
	call(t, h, "/v1/classify", map[string]any{"inputs": texts, "head": "finetuned", "raw_scores": true}, 200, &finetuned)
	if finetuned.Checkpoint == mainID || finetuned.Checkpoint != heads[1].Checkpoint {
		t.Errorf("finetuned head ran on %s, want its own encoder %s", finetuned.Checkpoint, heads[1].Checkpoint)
	}
	for i, res := range finetuned.Results {
		checkRanked(t, texts[i], res, labels, senti.Items[i].Logits)
	}
	var emb embedResp
	call(t, h, "/v1/embed", map[string]any{"inputs": texts[:3]}, 200, &emb)
	for i, v := range emb.Embeddings {
		if d := maxAbs(v, tiny.Items[i].Mean); d > 1e-5 || emb.Checkpoint != mainID {
			t.Errorf("embed after adding heads: %q differs by %g (checkpoint %s)", texts[i], d, emb.Checkpoint)
		}
	}
}

func TestClassifyTopK(t *testing.T) {
	s := newServer(t, Options{}, inference.ModelConfig{Dir: sentimentDir})
	var all, top classifyResp
	call(t, s.Handler(), "/v1/classify", map[string]any{"inputs": []string{"good", "bad"}}, 200, &all)
	call(t, s.Handler(), "/v1/classify", map[string]any{"inputs": []string{"good", "bad"}, "top_k": 2}, 200, &top)
	for i := range all.Results {
		if len(top.Results[i]) != 2 || top.Results[i][0] != all.Results[i][0] || top.Results[i][1] != all.Results[i][1] {
			t.Errorf("top_k 2 = %+v, want the first two of %+v", top.Results[i], all.Results[i])
		}
	}
	call(t, s.Handler(), "/v1/classify", map[string]any{"inputs": "good", "top_k": 10}, 200, &top)
	if len(top.Results[0]) != 3 {
		t.Errorf("top_k above the label count gave %d labels", len(top.Results[0]))
	}
}
