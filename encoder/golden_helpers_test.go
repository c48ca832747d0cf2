package encoder

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

	"github.com/coldserve/coldserve/weights"
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

// readConfig loads a test checkpoint directory's config.json.
func readConfig(t testing.TB, dir string) weights.Config {
	t.Helper()
	c, err := weights.LoadConfig(filepath.Join("..", "testdata", "models", dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	return c
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

// batchesBySimilarLength groups item indices into batches of similar lengths, at most
// maxBatch sequences and (unless one sequence alone exceeds it) maxTokens padded tokens
// each, so padding stays small, as a server batches.
func batchesBySimilarLength(items []goldenItem, maxBatch, maxTokens int) [][]int {
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return len(items[idx[a]].IDs) < len(items[idx[b]].IDs) })
	var out [][]int
	var cur []int
	for _, i := range idx {
		n := len(items[i].IDs) // sorted: the newest item is the longest
		if len(cur) > 0 && (len(cur) == maxBatch || (len(cur)+1)*n > maxTokens) {
			out = append(out, cur)
			cur = nil
		}
		cur = append(cur, i)
	}
	return append(out, cur)
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

// loadModel loads a checkpoint directory of testdata/models.
func loadModel(t testing.TB, dir string) *weights.Checkpoint {
	t.Helper()
	ck, err := weights.Load(t.Context(), filepath.Join("..", "testdata", "models", dir))
	if err != nil {
		t.Fatal(err)
	}
	return ck
}

// tinyCheckpoint is tiny-roberta (weightgen seed 0, RobertaModel with a pooler).
func tinyCheckpoint(t testing.TB) *weights.Checkpoint { return loadModel(t, "tiny-roberta") }

// sentimentCheckpoint is tiny-roberta-sentiment: a RobertaForSequenceClassification with
// its own encoder (weightgen seed 3, no pooler) and a 3-label head.
func sentimentCheckpoint(t testing.TB) *weights.Checkpoint {
	return loadModel(t, "tiny-roberta-sentiment")
}

func mustEncoder(t testing.TB, ck *weights.Checkpoint, opts EncoderOptions) *Encoder {
	t.Helper()
	e, err := NewEncoder(ck, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func itoa(i int) string { return strconv.Itoa(i) }

// goldenCompare says what of a golden file to compare and how closely.
type goldenCompare struct {
	// Padded batches of similar length, as batchesBySimilarLength makes them.
	maxBatch, maxTokens int
	// tokenRows compares the golden's selected token_rows (large inputs); otherwise every row
	// of last_hidden_state.
	tokenRows bool
	// poolings are compared with the golden's field of the same name (cls, mean, pooler).
	poolings []Pooling
	// heads are run on each item's <s> row and compared with head_logits[name].
	heads map[string]*Head
	// tol is the largest absolute difference allowed, for every quantity.
	tol float64
}

// compareGolden runs every item of g through e in padded batches and checks each quantity
// that c names against HF's float64 outputs, reporting the worst element of each.
func compareGolden(t *testing.T, g goldenFile, e *Encoder, c goldenCompare) {
	t.Helper()
	var rows maxDiff
	pooled := make([]maxDiff, len(c.poolings))
	headNames := make([]string, 0, len(c.heads))
	for name := range c.heads {
		headNames = append(headNames, name)
	}
	sort.Strings(headNames)
	logits := make([]maxDiff, len(headNames))
	for _, batch := range batchesBySimilarLength(g.Items, c.maxBatch, c.maxTokens) {
		o := forwardItems(t, e, g.Items, batch)
		for j, i := range batch {
			it := g.Items[i]
			name := "item " + itoa(i)
			hidden := o.Hidden(j)
			if c.tokenRows {
				compareTokenRows(t, &rows, name, hidden, it)
			} else {
				if len(hidden) != len(it.LastHiddenState) {
					t.Fatalf("%s: %d rows, want %d", name, len(hidden), len(it.LastHiddenState))
				}
				for r := range hidden {
					rows.vec(name+" row "+itoa(r), hidden[r], it.LastHiddenState[r])
				}
			}
			for k, p := range c.poolings {
				v, err := e.Pool(o, j, p, false)
				if err != nil {
					t.Fatalf("%s: pool %s: %v", name, p, err)
				}
				pooled[k].vec(name+" "+string(p), v, it.pooled(t, p))
			}
			for k, h := range headNames {
				logits[k].vec(name+" "+h+" logits", c.heads[h].Logits(hidden[0]), it.HeadLogits[h])
			}
		}
	}
	if c.tokenRows {
		rows.check(t, "token_rows", c.tol)
	} else {
		rows.check(t, "last_hidden_state", c.tol)
	}
	for k, p := range c.poolings {
		pooled[k].check(t, string(p), c.tol)
	}
	for k, h := range headNames {
		logits[k].check(t, "head_logits."+h, c.tol)
	}
}

// compareTokenRows compares the rows a golden selected (token_rows, keyed by row index).
func compareTokenRows(t *testing.T, rows *maxDiff, name string, hidden [][]float32, it goldenItem) {
	t.Helper()
	if len(hidden) != len(it.IDs) {
		t.Fatalf("%s: %d rows, want %d", name, len(hidden), len(it.IDs))
	}
	if len(it.TokenRows) == 0 {
		t.Fatalf("%s: golden has no token_rows", name)
	}
	for k, want := range it.TokenRows {
		r, err := strconv.Atoi(k)
		if err != nil || r < 0 || r >= len(hidden) {
			t.Fatalf("%s: token row %q outside %d rows", name, k, len(hidden))
		}
		rows.vec(name+" row "+k, hidden[r], want)
	}
}

// pooled is the golden vector for pooling p.
func (it goldenItem) pooled(t *testing.T, p Pooling) []float64 {
	t.Helper()
	switch p {
	case PoolCLS:
		return it.CLS
	case PoolMean:
		return it.Mean
	case PoolPooler:
		return it.Pooler
	}
	t.Fatalf("golden files hold no %q pooling", p)
	return nil
}
