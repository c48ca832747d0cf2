package server

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/coldserve/coldserve/inference"
	"github.com/coldserve/coldserve/internal/fixture"
)

// cacheCounters reads the cache hit and miss counters.
func cacheCounters(t *testing.T, s *Server) (hits, misses int) {
	t.Helper()
	return int(testutil.ToFloat64(s.metrics.cacheHits.WithLabelValues(inference.CacheEmbed))),
		int(testutil.ToFloat64(s.metrics.cacheMisses.WithLabelValues(inference.CacheEmbed)))
}

func embed(t *testing.T, s *Server, body map[string]any) embedResp {
	t.Helper()
	var resp embedResp
	call(t, s.Handler(), "/v1/embed", body, http.StatusOK, &resp)
	return resp
}

// A repeated text is answered from the cache: identical vectors and usage, no forward pass.
// A request mixing cached and new texts runs a pass for the new ones only, and every vector
// still equals Hugging Face's.
func TestEmbedCacheHitCostsNoForwardPass(t *testing.T) {
	var g tinyGolden
	readGolden(t, "tiny.json", &g)
	s := newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir})
	a, b, c := g.Items[7], g.Items[8], g.Items[12]

	first := embed(t, s, map[string]any{"inputs": []string{a.Text, b.Text}})
	passes := forwardPasses(t, s)
	hits0, misses0 := cacheCounters(t, s)
	again := embed(t, s, map[string]any{"inputs": []string{b.Text, a.Text}})
	if n := forwardPasses(t, s) - passes; n != 0 {
		t.Errorf("%d forward passes for cached texts", n)
	}
	if hits, misses := cacheCounters(t, s); hits-hits0 != 2 || misses != misses0 {
		t.Errorf("hits +%d misses +%d, want +2 +0", hits-hits0, misses-misses0)
	}
	if !slices.Equal(again.Embeddings[0], first.Embeddings[1]) || !slices.Equal(again.Embeddings[1], first.Embeddings[0]) {
		t.Error("cached vectors differ from the computed ones")
	}
	if again.Usage.PromptTokens != first.Usage.PromptTokens || again.Checkpoint != first.Checkpoint {
		t.Errorf("cached answer: %d tokens on %s, computed: %d on %s",
			again.Usage.PromptTokens, again.Checkpoint, first.Usage.PromptTokens, first.Checkpoint)
	}

	mixed := embed(t, s, map[string]any{"inputs": []string{c.Text, a.Text}})
	if n := forwardPasses(t, s) - passes; n != 1 {
		t.Errorf("%d forward passes for one new text, want 1", n)
	}
	for i, want := range [][]float64{c.Mean, a.Mean} {
		if d := maxAbs(mixed.Embeddings[i], want); d > 1e-5 {
			t.Errorf("input %d differs from HF by %g", i, d)
		}
	}
	if want := len(c.IDs) + len(a.IDs); mixed.Usage.PromptTokens != want {
		t.Errorf("usage %d tokens, want %d", mixed.Usage.PromptTokens, want)
	}
}

// Options that change a vector are part of the key: each variant misses once, then hits, and
// the variants keep their own values.
func TestEmbedCacheKeyIncludesOptions(t *testing.T) {
	var g tinyGolden
	readGolden(t, "tiny.json", &g)
	s := newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir})
	it := g.Items[7]
	variants := []struct {
		name string
		body map[string]any
		want []float64
	}{
		{"mean", map[string]any{"inputs": it.Text}, it.Mean},
		{"cls", map[string]any{"inputs": it.Text, "pooling": "cls"}, it.CLS},
		{"pooler", map[string]any{"inputs": it.Text, "pooling": "pooler"}, it.Pooler},
		{"mean normalized", map[string]any{"inputs": it.Text, "normalize": true}, fixture.Unit(it.Mean)},
		{"mean truncate false", map[string]any{"inputs": it.Text, "truncate": false}, it.Mean},
	}
	for round := range 2 {
		for _, v := range variants {
			passes := forwardPasses(t, s)
			got := embed(t, s, v.body)
			if d := maxAbs(got.Embeddings[0], v.want); d > 1e-5 {
				t.Errorf("round %d %s: differs from HF by %g", round, v.name, d)
			}
			wantPasses := 1 - round // computed in round 0, cached in round 1
			if n := forwardPasses(t, s) - passes; n != wantPasses {
				t.Errorf("round %d %s: %d forward passes, want %d", round, v.name, n, wantPasses)
			}
		}
	}
}

// With the cache disabled every request costs a forward pass.
func TestEmbedCacheDisabled(t *testing.T) {
	s := newServer(t, Options{CacheBytes: -1}, inference.ModelConfig{Dir: tinyDir})
	for i := range 2 {
		passes := forwardPasses(t, s)
		embed(t, s, map[string]any{"inputs": "Hello world"})
		if n := forwardPasses(t, s) - passes; n != 1 {
			t.Errorf("request %d: %d forward passes, want 1", i, n)
		}
	}
}

// After a swap the same text is computed by the new weights, never served from the old ones;
// swapping back finds the first checkpoint's vectors again.
func TestEmbedCacheNeverServesOtherWeights(t *testing.T) {
	var tg tinyGolden
	readGolden(t, "tiny.json", &tg)
	var fg fusedGolden
	readGolden(t, "tiny_fused.json", &fg)
	fused := map[string][]float64{}
	for _, it := range fg.Items {
		fused[it.Text] = it.Mean
	}
	var text string
	var tinyMean []float64
	for _, it := range tg.Items {
		if fused[it.Text] != nil && len(it.IDs) > 3 {
			text, tinyMean = it.Text, it.Mean
			break
		}
	}
	if text == "" {
		t.Fatal("no text in both tiny.json and tiny_fused.json")
	}
	root := checkpointRoot(t)
	s := newAdminServer(t, root, 1)
	swap := func(name string) {
		t.Helper()
		if code, raw := adminDo(t, s.Handler(), http.MethodPost, "/admin/checkpoint", map[string]any{"source": name}); code != http.StatusOK {
			t.Fatalf("swap to %s: %d %s", name, code, raw)
		}
	}
	steps := []struct {
		swapTo string // "" keeps the served checkpoint
		want   []float64
	}{{"", tinyMean}, {"", tinyMean}, {"fused", fused[text]}, {"", fused[text]}, {"tiny", tinyMean}}
	for step, c := range steps {
		if c.swapTo != "" {
			swap(c.swapTo)
		}
		passes := forwardPasses(t, s)
		got := embed(t, s, map[string]any{"inputs": text})
		if d := maxAbs(got.Embeddings[0], c.want); d > 1e-5 {
			t.Errorf("step %d (%s): differs from the served checkpoint's golden by %g", step, got.Checkpoint, d)
		}
		// Step 2 is the first request on fused: it must compute. The others repeat a text
		// already embedded by the served weights.
		if want := map[bool]int{true: 1, false: 0}[step == 0 || step == 2]; forwardPasses(t, s)-passes != want {
			t.Errorf("step %d: %d forward passes, want %d", step, forwardPasses(t, s)-passes, want)
		}
	}
}

// A server whose cache is a fraction of the traffic stays within its bound.
func TestEmbedCacheStaysWithinLimit(t *testing.T) {
	const limit = 8 << 10
	s := newServer(t, Options{CacheBytes: limit}, inference.ModelConfig{Dir: filepath.Clean(tinyDir)})
	for i := range 40 {
		embed(t, s, map[string]any{"inputs": []string{fmt.Sprint("text number ", i), fmt.Sprint("another ", i)}})
	}
	n, b := s.core.CacheUsage()
	if b > limit || n == 0 {
		t.Errorf("cache holds %d entries in %d bytes, limit %d", n, b, limit)
	}
	if n >= 80 {
		t.Errorf("nothing was evicted: %d entries", n)
	}
}
