package model

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
)

// goldenItem is one text of a golden file; fields absent from a file stay empty.
type goldenItem struct {
	Text            string               `json:"text"`
	IDs             []int32              `json:"ids"`
	LastHiddenState [][]float64          `json:"last_hidden_state"`
	TokenRows       map[string][]float64 `json:"token_rows"`
	CLS             []float64            `json:"cls"`
	Mean            []float64            `json:"mean"`
	Pooler          []float64            `json:"pooler"`
	HeadLogits      map[string][]float64 `json:"head_logits"`
	Logits          []float64            `json:"logits"`
	Probs           []float64            `json:"probs"`
}

type goldenFile struct {
	Items []goldenItem `json:"items"`
}

func readGolden(t testing.TB, name string) goldenFile {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "golden", name))
	if err != nil {
		t.Fatal(err)
	}
	var g goldenFile
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(g.Items) == 0 {
		t.Fatalf("%s: no items", name)
	}
	return g
}

// readConfig parses a checkpoint directory's config.json (test helper; the loader's
// validation is tested on its own).
func readConfig(t testing.TB, dir string) Config {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "models", dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c Config
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// baseConfig is the roberta-base geometry of base.json.
func baseConfig() Config {
	return Config{
		ModelType: "roberta", VocabSize: 50265, HiddenSize: 768, NumHiddenLayers: 12,
		NumAttentionHeads: 12, IntermediateSize: 3072, MaxPositionEmbeddings: 514,
		TypeVocabSize: 1, LayerNormEps: 1e-5, PadTokenID: 1, BosTokenID: 0, EosTokenID: 2,
		HiddenAct: "gelu",
	}
}

// maxDiff tracks the largest absolute difference seen and where.
type maxDiff struct {
	v     float64
	where string
}

func (m *maxDiff) vec(where string, got []float32, want []float64) {
	if len(got) != len(want) {
		m.v, m.where = math.Inf(1), fmt.Sprintf("%s: length %d, want %d", where, len(got), len(want))
		return
	}
	for i := range got {
		d := math.Abs(float64(got[i]) - want[i])
		if d > m.v || math.IsNaN(d) {
			if math.IsNaN(d) {
				d = math.Inf(1)
			}
			m.v, m.where = d, fmt.Sprintf("%s[%d]: got %.7g want %.7g", where, i, got[i], want[i])
		}
	}
}

func (m *maxDiff) check(t *testing.T, what string, tol float64) {
	t.Helper()
	if m.v > tol {
		t.Errorf("%s: max abs diff %.3g > %.0e at %s", what, m.v, tol, m.where)
	} else {
		t.Logf("%s: max abs diff %.3g (tolerance %.0e)", what, m.v, tol)
	}
}

// batchesBySimilarLength groups item indices into batches of at most size with similar
// lengths, so padding stays small (how a server batches).
func batchesBySimilarLength(items []goldenItem, size int) [][]int {
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return len(items[idx[a]].IDs) < len(items[idx[b]].IDs) })
	var out [][]int
	for len(idx) > 0 {
		n := min(size, len(idx))
		out = append(out, idx[:n])
		idx = idx[n:]
	}
	return out
}

// forwardItems runs the given items as one padded batch.
func forwardItems(t testing.TB, e *Encoder, items []goldenItem, batch []int) *Output {
	t.Helper()
	ids := make([][]int32, len(batch))
	for j, i := range batch {
		ids[j] = items[i].IDs
	}
	o, err := e.Forward(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// tinyCheckpoint is tiny-roberta: weightgen seed 0 in the geometry of its config.json.
func tinyCheckpoint(t testing.TB) *Checkpoint {
	return Weightgen(readConfig(t, "tiny-roberta"), 0, WeightgenOptions{})
}

// sentimentCheckpoint is tiny-roberta-sentiment: a RobertaForSequenceClassification with
// its own encoder (seed 3, keys generated with the "roberta." prefix) and a 3-label head.
func sentimentCheckpoint(t testing.TB) *Checkpoint {
	return Weightgen(readConfig(t, "tiny-roberta-sentiment"), 3,
		WeightgenOptions{Prefix: "roberta.", NoPooler: true, NumLabels: 3})
}

func mustEncoder(t testing.TB, ck *Checkpoint, opts EncoderOptions) *Encoder {
	t.Helper()
	e, err := NewEncoder(ck, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func itoa(i int) string { return strconv.Itoa(i) }
