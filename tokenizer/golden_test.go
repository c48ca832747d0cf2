package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

const (
	modelDir   = "../testdata/models/tiny-roberta"
	goldenPath = "../testdata/golden/tokenizer.json"
)

type goldenItem struct {
	Text            string   `json:"text"`
	IDs             []int    `json:"ids"`
	Tokens          []string `json:"tokens"`
	Offsets         []Offset `json:"offsets"`
	IDsTruncated512 []int    `json:"ids_truncated_512"`
	Decoded         string   `json:"decoded"`
}

var (
	goldenOnce  sync.Once
	goldenItems []goldenItem
	goldenErr   error

	tokOnce sync.Once
	tokRoot *Tokenizer
	tokErr  error
)

func loadGolden(t testing.TB) []goldenItem {
	goldenOnce.Do(func() {
		raw, err := os.ReadFile(goldenPath)
		if err != nil {
			goldenErr = err
			return
		}
		var g struct {
			Items []goldenItem `json:"items"`
		}
		goldenErr = json.Unmarshal(raw, &g)
		goldenItems = g.Items
	})
	if goldenErr != nil {
		t.Fatal(goldenErr)
	}
	return goldenItems
}

// testTokenizer is the tiny-roberta tokenizer, loaded once per test binary.
func testTokenizer(t testing.TB) *Tokenizer {
	tokOnce.Do(func() { tokRoot, tokErr = Load(modelDir) })
	if tokErr != nil {
		t.Fatal(tokErr)
	}
	return tokRoot
}

// legacyDir is a model directory with only vocab.json, merges.txt and the configs.
func legacyDir(t testing.TB) string {
	dir := t.TempDir()
	for _, f := range []string{"vocab.json", "merges.txt", "tokenizer_config.json", "config.json"} {
		b, err := os.ReadFile(filepath.Join(modelDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// checkGolden returns "" when tok reproduces item exactly, else what differs first.
func checkGolden(tok *Tokenizer, it goldenItem) string {
	full, err := tok.EncodeWith(it.Text, Options{MaxLength: NoTruncation})
	if err != nil {
		return err.Error()
	}
	if d := firstDiff("ids", full.IDs, it.IDs); d != "" {
		return d
	}
	if d := firstDiff("tokens", full.Tokens, it.Tokens); d != "" {
		return d
	}
	if d := firstDiff("offsets", full.Offsets, it.Offsets); d != "" {
		return d
	}
	want512 := it.IDsTruncated512
	if want512 == nil { // truncation changes nothing for this text
		want512 = it.IDs
	}
	if d := firstDiff("ids_truncated_512 (default Encode)", tok.Encode(it.Text).IDs, want512); d != "" {
		return d
	}
	if got := tok.Decode(full.IDs, true); got != it.Decoded {
		return fmt.Sprintf("decoded: got %q, want %q", got, it.Decoded)
	}
	return ""
}

func firstDiff[T comparable](what string, got, want []T) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("%s[%d]: got %v, want %v", what, i, got[i], want[i])
		}
	}
	if len(got) != len(want) {
		return fmt.Sprintf("%s: got %d, want %d", what, len(got), len(want))
	}
	return ""
}

func runGolden(t *testing.T, tok *Tokenizer) {
	items := loadGolden(t)
	pass := 0
	for i, it := range items {
		if d := checkGolden(tok, it); d != "" {
			t.Errorf("item %d %.60q: %s", i, it.Text, d)
			continue
		}
		pass++
	}
	t.Logf("%d of %d golden items identical (ids, tokens, offsets, ids_truncated_512, decoded)", pass, len(items))
	if len(items) != 101 {
		t.Errorf("golden file has %d items, want 101", len(items))
	}
}

func TestGoldenTokenizerJSON(t *testing.T) { runGolden(t, testTokenizer(t)) }

func TestGoldenVocabMerges(t *testing.T) {
	tok, err := Load(legacyDir(t))
	if err != nil {
		t.Fatal(err)
	}
	runGolden(t, tok)
}

// The golden texts again with the word cache off (every word through BPE), and again with a
// cache already warm from them, so both paths are held to the goldens.
func TestGoldenCacheStates(t *testing.T) {
	tok, err := Load(modelDir)
	if err != nil {
		t.Fatal(err)
	}
	tok.setCacheSize(0)
	runGolden(t, tok)
	tok.setCacheSize(16)
	runGolden(t, tok)
	runGolden(t, tok)
}

func TestGoldenOtherCheckpoints(t *testing.T) {
	for _, d := range []string{"tiny-roberta-sentiment", "tiny-roberta-bf16-sharded"} {
		tok, err := Load(filepath.Join("../testdata/models", d))
		if err != nil {
			t.Fatal(err)
		}
		runGolden(t, tok)
	}
}

func TestGoldenSpecialTokensMask(t *testing.T) {
	tok := testTokenizer(t)
	for _, it := range loadGolden(t) {
		e := tok.Encode(it.Text)
		for i := range e.IDs {
			want := 0
			if i == 0 || i == e.Len()-1 {
				want = 1
			}
			if e.SpecialTokensMask[i] != want || e.AttentionMask[i] != 1 {
				t.Fatalf("%q: token %d mask %d attention %d", it.Text, i, e.SpecialTokensMask[i], e.AttentionMask[i])
			}
		}
		if e.Truncated != len(it.IDs)-len(e.IDs) {
			t.Errorf("%.40q: Truncated = %d, want %d", it.Text, e.Truncated, len(it.IDs)-len(e.IDs))
		}
	}
}
