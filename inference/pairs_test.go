package inference

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/coldserve/coldserve/internal/fixture"
	"github.com/coldserve/coldserve/tokenizer"
)

// The pair golden's ids at max_length 512 and 64 come out of the served tokenizer unchanged:
// <s> A </s></s> B </s>, cut longest_first as Hugging Face's tokenizers cut them.
func TestPairIDsMatchGolden(t *testing.T) {
	raw, err := os.ReadFile("../testdata/golden/tiny_sentiment_pairs.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Items []struct {
			A     string  `json:"a"`
			B     string  `json:"b"`
			IDs   []int32 `json:"ids_512"`
			IDs64 []int32 `json:"ids_64"`
		} `json:"items"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	tok, err := loadCodec(sentimentDir)
	if err != nil {
		t.Fatal(err)
	}
	inputs := make([]Input, len(g.Items))
	for i, it := range g.Items {
		inputs[i] = PairInput(it.A, it.B)
	}
	for _, maxLen := range []int{512, 64} {
		encs, err := tok.encode(t.Context(), inputs, maxLen, Truncation{}, true)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range encs {
			want := g.Items[i].IDs
			if maxLen == 64 {
				want = g.Items[i].IDs64
			}
			if !slices.Equal(e.ids, want) {
				t.Errorf("max_length %d pair %d: ids\n%v\nwant (HF)\n%v", maxLen, i, e.ids, want)
			}
		}
	}
}

// hfTruncatePair is tokenizers' truncate_encodings (src/utils/truncation.rs) for a pair whose
// texts have na and nb tokens and share max tokens: how many of each are kept, or an error
// where only_first/only_second cannot remove enough. It is written from the Rust source, not
// from our tokenizer, so that it can check it.
func hfTruncatePair(na, nb, max int, strategy tokenizer.TruncationStrategy) (int, int, error) {
	total := na + nb
	if total <= max {
		return na, nb, nil
	}
	remove := total - max
	switch strategy {
	case tokenizer.OnlyFirst:
		if na <= remove {
			return 0, 0, errors.New("sequence too short")
		}
		return na - remove, nb, nil
	case tokenizer.OnlySecond:
		if nb <= remove {
			return 0, 0, errors.New("sequence too short")
		}
		return na, nb - remove, nil
	}
	n1, n2, swap := na, nb, false
	if n1 > n2 {
		n1, n2, swap = n2, n1, true
	}
	if n1 > max {
		n2 = n1
	} else {
		n2 = maxOf(n1, max-n1)
	}
	if n1+n2 > max {
		n1 = max / 2
		n2 = n1 + max%2
	}
	if swap {
		n1, n2 = n2, n1
	}
	return min(n1, na), min(n2, nb), nil
}

// maxOf is the builtin max, which the parameter named max shadows in hfTruncatePair.
func maxOf(a, b int) int { return max(a, b) }

// Every truncation strategy and direction on pairs of several shapes: the ids equal the HF
// rule applied to each text's own tokens, and Classify on the pair equals Classify on those ids
// given as token ids; a strategy that cannot cut enough is ErrInvalidInput, and Refuse is
// ErrInputTooLong.
func TestPairTruncationFollowsHF(t *testing.T) {
	c := newCore(t, Options{CacheBytes: -1}, ModelConfig{Dir: sentimentDir, MaxInputTokens: 24})
	m := c.model.Load()
	long := "Researchers fused thirty-five finetuned models into one base model that others can finetune again"
	pairs := [][2]string{
		{long, "Short."},
		{"Why?", long},
		{long, long + " and again"},
		{"A woman slices an onion.", "Someone cuts a vegetable."}, // fits: nothing is cut
	}
	const room = 24 - 4 // <s> A </s></s> B </s>
	for _, p := range pairs {
		sides, err := m.main.tok.encode(t.Context(), TextInputs(p[:]), 0, Truncation{}, false)
		if err != nil {
			t.Fatal(err)
		}
		a, b := sides[0].ids, sides[1].ids
		for _, strategy := range []tokenizer.TruncationStrategy{tokenizer.LongestFirst, tokenizer.OnlyFirst, tokenizer.OnlySecond} {
			for _, side := range []tokenizer.Side{tokenizer.SideRight, tokenizer.SideLeft} {
				name := fmt.Sprintf("%d+%d/%v/left=%v", len(a), len(b), strategy, side == tokenizer.SideLeft)
				t.Run(name, func(t *testing.T) {
					trunc := Truncation{Strategy: strategy, Side: side}
					in := []Input{PairInput(p[0], p[1])}
					ka, kb, herr := hfTruncatePair(len(a), len(b), room, strategy)
					got, err := c.Classify(t.Context(), ClassifyRequest{Inputs: in, RawScores: true, Truncation: trunc})
					if herr != nil {
						if !errors.Is(err, ErrInvalidInput) {
							t.Fatalf("HF fails (%v); we answered %v", herr, err)
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					keep := func(ids []int32, n int) []int32 {
						if side == tokenizer.SideLeft {
							return ids[len(ids)-n:]
						}
						return ids[:n]
					}
					want := slices.Concat([]int32{0}, keep(a, ka), []int32{2, 2}, keep(b, kb), []int32{2})
					encs, err := m.main.tok.encode(t.Context(), in, m.maxInputTokens, trunc, true)
					if err != nil || !slices.Equal(encs[0].ids, want) {
						t.Fatalf("ids %v (%v), HF rule %v", encs[0].ids, err, want)
					}
					byIDs, err := c.Classify(t.Context(), ClassifyRequest{Inputs: []Input{IDsInput(want)}, RawScores: true})
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(got.Heads[0].Results[0], byIDs.Heads[0].Results[0]) {
						t.Errorf("pair %v, its ids %v", got.Heads[0].Results[0], byIDs.Heads[0].Results[0])
					}
					_, err = c.Classify(t.Context(), ClassifyRequest{Inputs: in, Truncation: Truncation{Refuse: true}})
					if cut := ka+kb < len(a)+len(b); cut != errors.Is(err, ErrInputTooLong) {
						t.Errorf("refuse: %v (the pair is cut: %v)", err, cut)
					}
				})
			}
		}
	}
}

// Classification results are cached per checkpoint, head weights, input and options: a
// repeat costs no forward pass; another truncation misses; a head removed and added again
// under its name with other weights is never answered from the old head's entries.
func TestClassifyCache(t *testing.T) {
	root := checkpointRoot(t)
	fixture.CopyDir(t, fixture.HeadDir(t, sentimentDir, []string{"contradiction", "neutral", "entailment"}, ""), filepath.Join(root, "nli"))
	fixture.CopyDir(t, fixture.HeadDir(t, sentimentDir, []string{"no", "yes"}, ""), filepath.Join(root, "yesno"))
	obs := &countingObserver{}
	c := newCore(t, Options{Observer: obs, Sources: sourcesIn(root)}, ModelConfig{Dir: filepath.Join(root, "tiny"),
		Heads: []HeadSpec{{Name: "h", Dir: filepath.Join(root, "nli")}}})
	in := []Input{PairInput("A man eats.", "Someone eats."), TextInput(strings.Repeat("long text ", 40))}
	classify := func(trunc Truncation) *Classification {
		t.Helper()
		out, err := c.Classify(t.Context(), ClassifyRequest{Inputs: in, RawScores: true, Truncation: trunc})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := classify(Truncation{})
	passes := obs.passes.Load()
	again := classify(Truncation{})
	if n := obs.passes.Load() - passes; n != 0 {
		t.Errorf("%d forward passes for a repeated request", n)
	}
	if fmt.Sprint(again.Heads) != fmt.Sprint(first.Heads) || again.Stats.Tokens != first.Stats.Tokens {
		t.Errorf("cached %v (%d tokens), computed %v (%d)", again.Heads, again.Stats.Tokens, first.Heads, first.Stats.Tokens)
	}
	if hits := obs.hits(CacheClassify); hits != 2 {
		t.Errorf("%d classify cache hits, want 2", hits)
	}
	passes = obs.passes.Load()
	classify(Truncation{Side: tokenizer.SideLeft})
	if n := obs.passes.Load() - passes; n != 1 {
		t.Errorf("%d forward passes after changing the truncation side, want 1", n)
	}

	if _, err := c.RemoveHead("h", Caller{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddHead(t.Context(), AddHeadRequest{Name: "h", Source: filepath.Join(root, "yesno")}); err != nil {
		t.Fatal(err)
	}
	passes = obs.passes.Load()
	after := classify(Truncation{})
	if n := obs.passes.Load() - passes; n != 1 {
		t.Errorf("%d forward passes after the head changed, want 1", n)
	}
	if got := len(after.Heads[0].Results[0]); got != 2 {
		t.Errorf("the new head answered %d labels, want its own 2: the old head's results were served", got)
	}
}
