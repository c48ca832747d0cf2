package server

import (
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/coldserve/coldserve/api/tei"
	"github.com/coldserve/coldserve/inference"
	"github.com/coldserve/coldserve/internal/fixture"
)

// teiCall posts body to a TEI route, requires status want and decodes the answer into out.
func teiCall(t *testing.T, h http.Handler, path string, body any, want int, out any) {
	t.Helper()
	call(t, h, path, body, want, out)
}

// /embed and /embed_all answer TEI's shapes with Hugging Face's numbers: normalized mean
// vectors by default, raw ones with normalize false, Matryoshka cuts with dimensions, every
// token's row from /embed_all; inputs may be texts or token ids.
func TestTEIEmbed(t *testing.T) {
	var g tinyGolden
	readGolden(t, "tiny.json", &g)
	s := newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir})
	h := s.Handler()
	a, b := g.Items[3], g.Items[4]
	tests := []struct {
		name string
		body map[string]any
		want [][]float64
	}{
		{"one string, normalized", map[string]any{"inputs": a.Text}, [][]float64{fixture.Unit(a.Mean)}},
		{"a list", map[string]any{"inputs": []string{a.Text, b.Text}}, [][]float64{fixture.Unit(a.Mean), fixture.Unit(b.Mean)}},
		{"normalize false", map[string]any{"inputs": []string{a.Text}, "normalize": false}, [][]float64{a.Mean}},
		{"token ids", map[string]any{"inputs": a.IDs, "normalize": false}, [][]float64{a.Mean}},
		{"id lists and texts", map[string]any{"inputs": []any{a.IDs, b.Text}}, [][]float64{fixture.Unit(a.Mean), fixture.Unit(b.Mean)}},
		{"dimensions", map[string]any{"inputs": a.Text, "dimensions": 8}, [][]float64{fixture.Unit(a.Mean[:8])}},
		{"unknown fields ignored", map[string]any{"inputs": a.Text, "some_option": true}, [][]float64{fixture.Unit(a.Mean)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [][]float32
			teiCall(t, h, "/embed", tt.body, http.StatusOK, &got)
			if len(got) != len(tt.want) {
				t.Fatalf("%d vectors, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if d := maxAbs(got[i], tt.want[i]); d > 1e-5 {
					t.Errorf("vector %d differs by %g", i, d)
				}
			}
		})
	}
	t.Run("embed_all", func(t *testing.T) {
		var got [][][]float32
		teiCall(t, h, "/embed_all", map[string]any{"inputs": []string{a.Text, b.Text}}, http.StatusOK, &got)
		for i, it := range []int{3, 4} {
			want := g.Items[it].LastHiddenState
			if len(got[i]) != len(want) {
				t.Fatalf("input %d: %d rows, want %d", i, len(got[i]), len(want))
			}
			for r := range want {
				if d := maxAbs(got[i][r], want[r]); d > 1e-5 {
					t.Errorf("input %d row %d differs by %g", i, r, d)
				}
			}
		}
	})
	t.Run("truncation direction", func(t *testing.T) {
		long := strings.Repeat("cold ", 300) + strings.Repeat("fusion ", 300)
		var right, left, leftUpper [][]float32
		teiCall(t, h, "/embed", map[string]any{"inputs": long}, 200, &right)
		teiCall(t, h, "/embed", map[string]any{"inputs": long, "truncation_direction": "left"}, 200, &left)
		teiCall(t, h, "/embed", map[string]any{"inputs": long, "truncation_direction": "LEFT"}, 200, &leftUpper)
		if d := maxAbs(left[0], float64s(leftUpper[0])); d != 0 {
			t.Errorf("LEFT and left differ by %g", d)
		}
		if d := maxAbs(left[0], float64s(right[0])); d < 1e-3 {
			t.Errorf("left and right truncation give the same vector (diff %g)", d)
		}
	})
}

// /predict reads TEI's inputs exactly as TEI does: a string, one pair, or a batch of strings
// and pairs; the answer lists every label by score, as a list of lists for a batch.
func TestTEIPredict(t *testing.T) {
	var g sentimentGolden
	readGolden(t, "tiny_sentiment.json", &g)
	s := newServer(t, Options{CacheBytes: -1}, inference.ModelConfig{Dir: sentimentDir})
	h := s.Handler()
	labels := []string{g.ID2Label["0"], g.ID2Label["1"], g.ID2Label["2"]}
	it0, it1 := g.Items[0], g.Items[1]

	var one []tei.Prediction
	teiCall(t, h, "/predict", map[string]any{"inputs": it0.Text}, 200, &one)
	checkRanked(t, it0.Text, toRanked(one), labels, it0.Probs)

	var raw []tei.Prediction
	teiCall(t, h, "/predict", map[string]any{"inputs": it0.Text, "raw_scores": true}, 200, &raw)
	checkRanked(t, it0.Text, toRanked(raw), labels, it0.Logits)

	var batch [][]tei.Prediction
	teiCall(t, h, "/predict", map[string]any{"inputs": []any{[]string{it0.Text}, []string{it1.Text}}}, 200, &batch)
	if len(batch) != 2 {
		t.Fatalf("batch of 2 answered %d", len(batch))
	}
	checkRanked(t, it1.Text, toRanked(batch[1]), labels, it1.Probs)

	// ["a", "b"] is ONE pair for TEI, not two texts.
	var pair []tei.Prediction
	teiCall(t, h, "/predict", map[string]any{"inputs": []string{"A man eats.", "Someone eats."}}, 200, &pair)
	var native classifyResp
	call(t, h, "/v1/classify", map[string]any{"inputs": []any{[]string{"A man eats.", "Someone eats."}}}, 200, &native)
	if d := scoreDiff(toRanked(pair), native.Results[0]); d > 1e-6 {
		t.Errorf("TEI pair and /v1/classify pair differ by %g", d)
	}

	var root []tei.Prediction // POST / on a classifier predicts
	teiCall(t, h, "/", map[string]any{"inputs": it0.Text}, 200, &root)
	checkRanked(t, it0.Text, toRanked(root), labels, it0.Probs)
}

func toRanked(p []tei.Prediction) rankedLabels {
	out := make(rankedLabels, len(p))
	for i, x := range p {
		out[i].Label, out[i].Score = x.Label, x.Score
	}
	return out
}

// /rerank runs the default head when it has one label; /similarity compares embeddings; POST /
// on an embedding model embeds; /tokenize gives TEI's byte offsets and span texts; /decode.
func TestTEIRoutes(t *testing.T) {
	var g tinyGolden
	readGolden(t, "tiny.json", &g)
	s := newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir, Heads: []inference.HeadSpec{
		{Name: "relevance", Dir: fixture.HeadDir(t, sentimentDir, []string{"relevant"}, "")}}})
	h := s.Handler()

	t.Run("rerank", func(t *testing.T) {
		texts := []string{"ColD Fusion recycles models.", "Paris is in France.", "Fusion"}
		var ranks []tei.Rank
		teiCall(t, h, "/rerank", map[string]any{"query": "What is ColD Fusion?", "texts": texts, "return_text": true}, 200, &ranks)
		var native struct {
			Results []struct {
				Index int     `json:"index"`
				Score float32 `json:"score"`
			} `json:"results"`
		}
		call(t, h, "/v1/rerank", map[string]any{"query": "What is ColD Fusion?", "texts": texts}, 200, &native)
		if len(ranks) != len(texts) {
			t.Fatalf("%d ranks", len(ranks))
		}
		for i, r := range ranks {
			if r.Index != native.Results[i].Index || r.Score != native.Results[i].Score || r.Text == nil || *r.Text != texts[r.Index] {
				t.Errorf("rank %d: %+v, /v1/rerank %+v", i, r, native.Results[i])
			}
		}
	})
	t.Run("similarity", func(t *testing.T) {
		a, b, c := g.Items[5], g.Items[6], g.Items[7]
		var sims []float32
		teiCall(t, h, "/similarity", map[string]any{"inputs": map[string]any{"source_sentence": a.Text, "sentences": []string{b.Text, c.Text}}}, 200, &sims)
		for i, o := range []int{6, 7} {
			want := dot(fixture.Unit(a.Mean), fixture.Unit(g.Items[o].Mean))
			if math.Abs(float64(sims[i])-want) > 1e-5 {
				t.Errorf("similarity %d: %g, HF vectors give %g", i, sims[i], want)
			}
		}
	})
	t.Run("POST / embeds", func(t *testing.T) {
		var got [][]float32
		teiCall(t, h, "/", map[string]any{"inputs": []string{g.Items[0].Text}}, 200, &got)
		if d := maxAbs(got[0], fixture.Unit(g.Items[0].Mean)); d > 1e-5 {
			t.Errorf("differs by %g", d)
		}
	})
	t.Run("tokenize", func(t *testing.T) {
		input := "héllo wörld"
		var toks [][]tei.SimpleToken
		teiCall(t, h, "/tokenize", map[string]any{"inputs": input}, 200, &toks)
		if len(toks) != 1 || len(toks[0]) < 3 {
			t.Fatalf("tokens %+v", toks)
		}
		first, last := toks[0][0], toks[0][len(toks[0])-1]
		if !first.Special || first.Start != nil || first.Text != "<s>" || !last.Special || last.Text != "</s>" {
			t.Errorf("specials %+v %+v", first, last)
		}
		var joined strings.Builder
		for _, tk := range toks[0][1 : len(toks[0])-1] {
			if tk.Special || tk.Start == nil || tk.Stop == nil || input[*tk.Start:*tk.Stop] != tk.Text {
				t.Fatalf("token %+v: text is not the byte span of the input", tk)
			}
			joined.WriteString(tk.Text)
		}
		if got := strings.ReplaceAll(joined.String(), " ", ""); got != strings.ReplaceAll(input, " ", "") {
			t.Errorf("spans joined %q, input %q", got, input)
		}
		if *toks[0][len(toks[0])-2].Stop != len(input) {
			t.Errorf("last stop %d, want the byte length %d", *toks[0][len(toks[0])-2].Stop, len(input))
		}
	})
	t.Run("decode", func(t *testing.T) {
		var texts []string
		teiCall(t, h, "/decode", map[string]any{"ids": g.Items[0].IDs}, 200, &texts)
		if len(texts) != 1 || texts[0] != g.Items[0].Text {
			t.Errorf("decode %q, want %q", texts, g.Items[0].Text)
		}
	})
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// GET /info carries TEI's fields; model_type follows the default head.
func TestTEIInfo(t *testing.T) {
	relevance := []inference.HeadSpec{{Name: "relevance", Dir: fixture.HeadDir(t, sentimentDir, []string{"relevant"}, "")}}
	for _, tt := range []struct {
		name        string
		dir         string
		heads       []inference.HeadSpec
		defaultHead string
		classifier  bool
	}{
		{"embedding", tinyDir, nil, "", false},
		{"embedding with a head beside it", tinyDir, relevance, "", false},
		{"classifier", sentimentDir, nil, "", true},
		{"--default-head", tinyDir, relevance, "relevance", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, Options{MaxClientBatch: 16, MaxConcurrentRequests: 7, Version: "9.9.9", DefaultHead: tt.defaultHead},
				inference.ModelConfig{Dir: tt.dir, Heads: tt.heads})
			var info map[string]any
			call(t, s.Handler(), "/info", nil, 200, &info)
			for _, f := range []string{"model_id", "model_sha", "model_dtype", "model_type", "max_concurrent_requests", "max_input_length",
				"max_batch_tokens", "max_client_batch_size", "auto_truncate", "tokenization_workers", "version", "checkpoint"} {
				if _, ok := info[f]; !ok {
					t.Errorf("no %s in %v", f, info)
				}
			}
			if info["model_id"] != tt.dir || info["model_sha"] != nil || info["model_dtype"] != "float32" || info["version"] != "9.9.9" ||
				info["max_client_batch_size"] != 16.0 || info["max_concurrent_requests"] != 7.0 || info["max_input_length"] != 512.0 {
				t.Errorf("info %v", info)
			}
			mt, _ := info["model_type"].(map[string]any)
			if _, ok := mt["classifier"]; ok != tt.classifier {
				t.Errorf("model_type %v, classifier %v", mt, tt.classifier)
			}
			if emb, ok := mt["embedding"].(map[string]any); !tt.classifier && (!ok || emb["pooling"] != "mean") {
				t.Errorf("model_type %v", mt)
			}
			// POST / follows the model type: predictions for a classifier, vectors otherwise.
			code, raw := do(t, s.Handler(), http.MethodPost, "/", map[string]any{"inputs": "a"})
			if predicted := strings.Contains(string(raw), `"label"`); code != 200 || predicted != tt.classifier {
				t.Errorf("POST /: %d %.80s, want a classifier's answer: %v", code, raw, tt.classifier)
			}
		})
	}
}

// Errors on the TEI routes use TEI's {"error", "error_type"} with TEI's statuses.
func TestTEIErrors(t *testing.T) {
	s := newServer(t, Options{MaxClientBatch: 2}, inference.ModelConfig{Dir: tinyDir, MaxInputTokens: 16})
	h := s.Handler()
	long := strings.Repeat("word ", 50)
	tests := []struct {
		name, path string
		body       any
		status     int
		typ        string
	}{
		{"empty inputs", "/embed", map[string]any{"inputs": []string{}}, 400, tei.ErrEmpty},
		{"too many inputs", "/embed", map[string]any{"inputs": []string{"a", "b", "c"}}, 413, tei.ErrValidation},
		{"too long without truncation", "/embed", map[string]any{"inputs": long, "truncate": false}, 422, tei.ErrValidation},
		{"dimensions 0", "/embed", map[string]any{"inputs": "a", "dimensions": 0}, 422, tei.ErrValidation},
		{"dimensions over the hidden size", "/embed", map[string]any{"inputs": "a", "dimensions": 33}, 422, tei.ErrValidation},
		{"prompt_name", "/embed", map[string]any{"inputs": "a", "prompt_name": "query"}, 422, tei.ErrValidation},
		{"bad direction", "/embed", map[string]any{"inputs": "a", "truncation_direction": "up"}, 422, tei.ErrValidation},
		{"malformed JSON", "/embed", `{"inputs": `, 422, tei.ErrValidation},
		{"not JSON", "/embed", nil, 400, tei.ErrEmpty},
		{"predict on an embedding model", "/predict", map[string]any{"inputs": "a"}, 424, tei.ErrBackend},
		{"rerank on an embedding model", "/rerank", map[string]any{"query": "q", "texts": []string{"a"}}, 424, tei.ErrBackend},
		{"predict: a pair of three", "/predict", map[string]any{"inputs": []string{"a", "b", "c"}}, 422, tei.ErrValidation},
		{"similarity without sentences", "/similarity", map[string]any{"inputs": map[string]any{"source_sentence": "a", "sentences": []string{}}}, 400, tei.ErrEmpty},
		{"decode outside the vocabulary", "/decode", map[string]any{"ids": []int{1 << 20}}, 422, tei.ErrValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, raw := do(t, h, http.MethodPost, tt.path, tt.body)
			var e tei.ErrorResponse
			if err := json.Unmarshal(raw, &e); err != nil || code != tt.status || e.ErrorType != tt.typ || e.Error == "" {
				t.Errorf("%d %s, want %d with error_type %s", code, raw, tt.status, tt.typ)
			}
		})
	}
}

// /health is 200 without a body once the model serves, and 503 Unhealthy before.
func TestTEIHealth(t *testing.T) {
	loading, err := New(Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	code, raw := do(t, loading.Handler(), http.MethodGet, "/health", nil)
	var e tei.ErrorResponse
	if err := json.Unmarshal(raw, &e); err != nil || code != 503 || e.ErrorType != tei.ErrUnhealthy {
		t.Errorf("while loading: %d %s", code, raw)
	}
	s := newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir})
	if code, raw := do(t, s.Handler(), http.MethodGet, "/health", nil); code != 200 || len(raw) != 0 {
		t.Errorf("ready: %d %q", code, raw)
	}
}
