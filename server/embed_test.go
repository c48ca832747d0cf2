package server

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/coldserve/coldserve/inference"
)

// Every golden text, embedded over HTTP with each pooling, matches Hugging Face within 1e-5.
// The texts go in requests of up to 64 inputs, so they are also batched with each other.
func TestEmbedMatchesGolden(t *testing.T) {
	var g tinyGolden
	readGolden(t, "tiny.json", &g)
	s := newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir})
	h := s.Handler()
	texts := make([]string, len(g.Items))
	for i, it := range g.Items {
		texts[i] = it.Text
	}
	for _, pooling := range []string{"mean", "cls", "pooler"} {
		t.Run(pooling, func(t *testing.T) {
			for _, c := range chunks(len(texts), 64) {
				var resp embedResp
				call(t, h, "/v1/embed", map[string]any{"inputs": texts[c[0]:c[1]], "pooling": pooling,
					"return_tokens": true}, 200, &resp)
				if resp.Pooling != pooling || resp.Dimensions != 32 || resp.Model != "tiny-roberta" ||
					!strings.HasPrefix(resp.Checkpoint, "sha256:") {
					t.Fatalf("metadata %+v", resp)
				}
				wantTokens := 0
				for i, v := range resp.Embeddings {
					it := g.Items[c[0]+i]
					want := map[string][]float64{"mean": it.Mean, "cls": it.CLS, "pooler": it.Pooler}[pooling]
					if d := maxAbs(v, want); d > 1e-5 {
						t.Errorf("%q: %s differs from HF by %g", it.Text, pooling, d)
					}
					ids := make([]int32, len(resp.Tokens[i]))
					for j, tok := range resp.Tokens[i] {
						ids[j] = tok.ID
					}
					if !slices.Equal(ids, it.IDs) {
						t.Errorf("%q: ids %v, want %v", it.Text, ids, it.IDs)
					}
					wantTokens += len(it.IDs)
				}
				if resp.Usage.PromptTokens != wantTokens || resp.Usage.TotalTokens != wantTokens {
					t.Errorf("usage %+v, want %d tokens", resp.Usage, wantTokens)
				}
			}
		})
	}
}

// pooling "none" returns last_hidden_state row for row, with the tokens.
func TestEmbedPoolingNoneMatchesLastHiddenState(t *testing.T) {
	var g tinyGolden
	readGolden(t, "tiny.json", &g)
	s := newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir})
	texts := make([]string, len(g.Items))
	for i, it := range g.Items {
		texts[i] = it.Text
	}
	for _, c := range chunks(len(texts), 64) {
		var resp embedNoneResp
		call(t, s.Handler(), "/v1/embed", map[string]any{"inputs": texts[c[0]:c[1]], "pooling": "none"}, 200, &resp)
		for i, rows := range resp.Embeddings {
			it := g.Items[c[0]+i]
			if len(rows) != len(it.LastHiddenState) || len(resp.Tokens[i]) != len(rows) {
				t.Fatalf("%q: %d rows and %d tokens, want %d", it.Text, len(rows), len(resp.Tokens[i]), len(it.LastHiddenState))
			}
			for j, row := range rows {
				if d := maxAbs(row, it.LastHiddenState[j]); d > 1e-5 {
					t.Errorf("%q token %d differs from HF by %g", it.Text, j, d)
				}
			}
			if first, last := resp.Tokens[i][0], resp.Tokens[i][len(rows)-1]; !first.Special || !last.Special {
				t.Errorf("%q: <s> and </s> not marked special: %+v %+v", it.Text, first, last)
			}
		}
	}
}

// normalize scales pooled and per-token vectors to unit length without changing direction.
func TestEmbedNormalize(t *testing.T) {
	var g tinyGolden
	readGolden(t, "tiny.json", &g)
	s := newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir})
	it := g.Items[7]
	var pooled embedResp
	call(t, s.Handler(), "/v1/embed", map[string]any{"inputs": it.Text, "normalize": true}, 200, &pooled)
	norm := 0.0
	for _, x := range it.Mean {
		norm += x * x
	}
	norm = math.Sqrt(norm)
	want := make([]float64, len(it.Mean))
	for i, x := range it.Mean {
		want[i] = x / norm
	}
	if d := maxAbs(pooled.Embeddings[0], want); d > 1e-5 {
		t.Errorf("normalized mean differs by %g", d)
	}
	var none embedNoneResp
	call(t, s.Handler(), "/v1/embed", map[string]any{"inputs": it.Text, "normalize": true, "pooling": "none"}, 200, &none)
	for j, row := range none.Embeddings[0] {
		ss := 0.0
		for _, x := range row {
			ss += float64(x) * float64(x)
		}
		if math.Abs(ss-1) > 1e-5 {
			t.Errorf("token %d has squared norm %g", j, ss)
		}
	}
}

// A long text is truncated to 512 tokens by default (as HF does), and --max-input-tokens lowers
// the limit.
func TestEmbedTruncation(t *testing.T) {
	var g tinyGolden
	readGolden(t, "tiny.json", &g)
	long := g.Items[len(g.Items)-1] // the 512-token item: HF truncated it too
	if len(long.IDs) != 512 {
		t.Fatalf("golden's last item has %d ids, want 512", len(long.IDs))
	}
	s := newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir})
	var resp embedResp
	call(t, s.Handler(), "/v1/embed", map[string]any{"inputs": long.Text}, 200, &resp)
	if d := maxAbs(resp.Embeddings[0], long.Mean); d > 1e-5 {
		t.Errorf("truncated mean differs from HF by %g", d)
	}
	if resp.Usage.PromptTokens != 512 {
		t.Errorf("usage %d tokens, want 512", resp.Usage.PromptTokens)
	}

	short := newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir, MaxInputTokens: 8})
	call(t, short.Handler(), "/v1/embed", map[string]any{"inputs": long.Text, "return_tokens": true}, 200, &resp)
	if len(resp.Tokens[0]) != 8 || resp.Tokens[0][7].ID != 2 || resp.Usage.PromptTokens != 8 {
		t.Errorf("with max 8 tokens got %d tokens ending in %d", len(resp.Tokens[0]), resp.Tokens[0][len(resp.Tokens[0])-1].ID)
	}
}
