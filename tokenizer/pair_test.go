package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

// pairsGoldenPath: sentence pairs through tiny-roberta-sentiment, ids by Hugging Face (each
// side tokenized by HF, truncated by tokenizers' truncate_encodings rule on max_length - 4).
const (
	pairsGoldenPath = "../testdata/golden/tiny_sentiment_pairs.json"
	sentimentDir    = "../testdata/models/tiny-roberta-sentiment"
)

type pairItem struct {
	A     string `json:"a"`
	B     string `json:"b"`
	LenA  int    `json:"len_a"`
	LenB  int    `json:"len_b"`
	IDs64 []int  `json:"ids_64"`
	IDs   []int  `json:"ids_512"`
}

var loadPairs = sync.OnceValues(func() ([]pairItem, error) {
	raw, err := os.ReadFile(pairsGoldenPath)
	if err != nil {
		return nil, err
	}
	var g struct {
		MaxLengths []int      `json:"max_lengths"`
		Items      []pairItem `json:"items"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil, fmt.Errorf("%s: %w", pairsGoldenPath, err)
	}
	if !slices.Equal(g.MaxLengths, []int{512, 64}) {
		return nil, fmt.Errorf("%s: max_lengths %v, want [512 64]", pairsGoldenPath, g.MaxLengths)
	}
	return g.Items, nil
})

func pairsGolden(t testing.TB) []pairItem {
	items, err := loadPairs()
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 14 {
		t.Fatalf("pairs golden has %d items, want 14", len(items))
	}
	return items
}

var sentimentTok = sync.OnceValues(func() (*Tokenizer, error) { return Load(sentimentDir) })

func sentimentTokenizer(t testing.TB) *Tokenizer {
	tok, err := sentimentTok()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// wantSeqIDs is the RoBERTa pair layout of sequence ids: <s> A </s></s> B </s>.
func wantSeqIDs(na, nb int) []int {
	out := []int{NoSequence}
	out = append(out, slices.Repeat([]int{0}, na)...)
	out = append(out, NoSequence, NoSequence)
	out = append(out, slices.Repeat([]int{1}, nb)...)
	return append(out, NoSequence)
}

// Every golden pair at both max lengths: ids exactly as Hugging Face's, and each side's tokens
// and offsets exactly as that text encoded alone (tokenizers encodes the two separately), cut
// as the truncated lengths say.
func TestGoldenPairs(t *testing.T) {
	tok := sentimentTokenizer(t)
	for i, it := range pairsGolden(t) {
		for _, c := range []struct {
			maxLen int
			want   []int
		}{{512, it.IDs}, {64, it.IDs64}, {0, it.IDs}} { // 0: the tokenizer's own 512
			t.Run(fmt.Sprintf("%d/%.20s/%d", i, it.A, c.maxLen), func(t *testing.T) {
				e, err := tok.EncodePair(it.A, it.B, PairOptions{MaxLength: c.maxLen})
				if err != nil {
					t.Fatal(err)
				}
				if d := firstDiff("ids", e.IDs, c.want); d != "" {
					t.Fatal(d)
				}
				fa, _ := tok.EncodeWith(it.A, Options{MaxLength: NoTruncation})
				fb, _ := tok.EncodeWith(it.B, Options{MaxLength: NoTruncation})
				if fa.Len()-2 != it.LenA || fb.Len()-2 != it.LenB {
					t.Fatalf("sides alone: %d and %d tokens, golden says %d and %d", fa.Len()-2, fb.Len()-2, it.LenA, it.LenB)
				}
				ka, kb := it.LenA-e.TruncatedPerSequence[0], it.LenB-e.TruncatedPerSequence[1]
				if e.Len() != ka+kb+4 || e.Truncated != it.LenA+it.LenB+4-e.Len() {
					t.Fatalf("truncated %d %v for %d tokens out of %d+%d", e.Truncated, e.TruncatedPerSequence, e.Len(), it.LenA, it.LenB)
				}
				if d := firstDiff("sequence ids", e.SequenceIDs, wantSeqIDs(ka, kb)); d != "" {
					t.Fatal(d)
				}
				wantOff := slices.Concat([]Offset{{}}, fa.Offsets[1:1+ka], []Offset{{}, {}}, fb.Offsets[1:1+kb], []Offset{{}})
				if d := firstDiff("offsets", e.Offsets, wantOff); d != "" {
					t.Fatal(d)
				}
				wantTok := slices.Concat([]string{"<s>"}, fa.Tokens[1:1+ka], []string{"</s>", "</s>"}, fb.Tokens[1:1+kb], []string{"</s>"})
				if d := firstDiff("tokens", e.Tokens, wantTok); d != "" {
					t.Fatal(d)
				}
				wantSpecial := slices.Concat([]int{1}, make([]int, ka), []int{1, 1}, make([]int, kb), []int{1})
				if d := firstDiff("special tokens mask", e.SpecialTokensMask, wantSpecial); d != "" {
					t.Fatal(d)
				}
				if slices.ContainsFunc(e.TypeIDs, func(v int) bool { return v != 0 }) || slices.Contains(e.AttentionMask, 0) {
					t.Fatalf("RoBERTa type ids must all be 0 and attention all 1: %v %v", e.TypeIDs, e.AttentionMask)
				}
			})
		}
	}
}

func TestGoldenPairsBatch(t *testing.T) {
	tok := sentimentTokenizer(t)
	items := pairsGolden(t)
	pairs := make([][2]string, len(items))
	for i, it := range items {
		pairs[i] = [2]string{it.A, it.B}
	}
	encs, err := tok.EncodePairBatch(pairs, PairOptions{MaxLength: 64})
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range items {
		one, _ := tok.EncodePair(it.A, it.B, PairOptions{MaxLength: 64})
		if !reflect.DeepEqual(encs[i], one) || !slices.Equal(encs[i].IDs, it.IDs64) {
			t.Errorf("batch item %d differs from EncodePair or the golden", i)
		}
	}
	if err := tok.Pad(encs); err != nil {
		t.Fatal(err)
	}
	e := encs[0] // 17 tokens, padded to 64
	if e.Len() != 64 || len(e.TypeIDs) != 64 || len(e.SequenceIDs) != 64 || e.SequenceIDs[17] != NoSequence || e.TypeIDs[17] != 0 || e.AttentionMask[17] != 0 {
		t.Fatalf("padding a pair: len %d, seq %v", e.Len(), e.SequenceIDs)
	}
	// only_first fails on pair 9 ("Short." + 103 tokens): the error names the pair.
	_, err = tok.EncodePairBatch(pairs, PairOptions{MaxLength: 64, Strategy: OnlyFirst})
	if !errors.Is(err, ErrSequenceTooShort) || !strings.Contains(err.Error(), "pair 9:") {
		t.Fatalf("only_first batch: %v", err)
	}
	if _, err := tok.EncodePairBatch(pairs, PairOptions{MaxLength: 3}); !errors.Is(err, ErrMaxLength) {
		t.Fatalf("batch MaxLength 3: %v", err)
	}
}

// The reference for these cases is truncation.rs read by hand, on golden pair 0, whose sides
// Hugging Face tokenizes as
//
//	A "A woman is slicing an onion."     250 693 16 40341 41 19543 4   (7 tokens)
//	B "Someone is cutting a vegetable."  29375 16 3931 10 16090 4      (6 tokens)
//
// and with RoBERTa's 4 specials a MaxLength of L leaves L-4 text tokens.
func TestPairTruncationStrategies(t *testing.T) {
	tok := sentimentTokenizer(t)
	const a, b = "A woman is slicing an onion.", "Someone is cutting a vegetable."
	A := []int{250, 693, 16, 40341, 41, 19543, 4}
	B := []int{29375, 16, 3931, 10, 16090, 4}
	pair := func(a, b []int) []int { return slices.Concat([]int{0}, a, []int{2, 2}, b, []int{2}) }
	for _, c := range []struct {
		name   string
		opts   PairOptions
		want   []int
		cut    [2]int
		errIs  error
		errHas string
	}{
		{"fits", PairOptions{MaxLength: 17}, pair(A, B), [2]int{}, nil, ""},
		{"fits/only_second", PairOptions{MaxLength: 17, Strategy: OnlySecond}, pair(A, B), [2]int{}, nil, ""},
		// longest_first, budget 12: B (6) is the shorter, A may take max(6, 12-6) = 6; 12 fits.
		{"longest/16", PairOptions{MaxLength: 16}, pair(A[:6], B), [2]int{1, 0}, nil, ""},
		// budget 11: 6 + 6 > 11, so halves: 11/2 = 5 for the shorter (B), 6 for the longer (A).
		{"longest/15", PairOptions{MaxLength: 15}, pair(A[:6], B[:5]), [2]int{1, 1}, nil, ""},
		// budget 8: halves 4 and 4.
		{"longest/12", PairOptions{MaxLength: 12}, pair(A[:4], B[:4]), [2]int{3, 2}, nil, ""},
		{"longest/12/left", PairOptions{MaxLength: 12, Side: SideLeft}, pair(A[3:], B[2:]), [2]int{3, 2}, nil, ""},
		// budget 7: 3 for the shorter (B), 4 for the longer (A): the odd token goes to A.
		{"longest/11", PairOptions{MaxLength: 11}, pair(A[:4], B[:3]), [2]int{3, 3}, nil, ""},
		{"longest/11/left", PairOptions{MaxLength: 11, Side: SideLeft}, pair(A[3:], B[3:]), [2]int{3, 3}, nil, ""},
		// only_first, budget 8: 13 - 8 = 5 go, all from A.
		{"only_first/12", PairOptions{MaxLength: 12, Strategy: OnlyFirst}, pair(A[:2], B), [2]int{5, 0}, nil, ""},
		{"only_first/12/left", PairOptions{MaxLength: 12, Strategy: OnlyFirst, Side: SideLeft}, pair(A[5:], B), [2]int{5, 0}, nil, ""},
		{"only_first/11", PairOptions{MaxLength: 11, Strategy: OnlyFirst}, pair(A[:1], B), [2]int{6, 0}, nil, ""},
		// budget 6: 7 must go and A has exactly 7 - tokenizers refuses to empty A.
		{"only_first/10", PairOptions{MaxLength: 10, Strategy: OnlyFirst}, nil, [2]int{}, ErrSequenceTooShort, "only_first must remove 7 tokens but the first text has 7"},
		{"only_first/5", PairOptions{MaxLength: 5, Strategy: OnlyFirst}, nil, [2]int{}, ErrSequenceTooShort, "room for 1"},
		// only_second, budget 8: 5 go, all from B.
		{"only_second/12", PairOptions{MaxLength: 12, Strategy: OnlySecond}, pair(A, B[:1]), [2]int{0, 5}, nil, ""},
		{"only_second/12/left", PairOptions{MaxLength: 12, Strategy: OnlySecond, Side: SideLeft}, pair(A, B[5:]), [2]int{0, 5}, nil, ""},
		{"only_second/11", PairOptions{MaxLength: 11, Strategy: OnlySecond}, nil, [2]int{}, ErrSequenceTooShort, "only_second must remove 6 tokens but the second text has 6"},
		// MaxLength 4 leaves nothing: both emptied, whatever the strategy (max_length 0 rule).
		{"zero/longest", PairOptions{MaxLength: 4}, pair(nil, nil), [2]int{7, 6}, nil, ""},
		{"zero/only_first", PairOptions{MaxLength: 4, Strategy: OnlyFirst}, pair(nil, nil), [2]int{7, 6}, nil, ""},
		{"below specials", PairOptions{MaxLength: 3}, nil, [2]int{}, ErrMaxLength, "max length 3 < 4"},
		{"no truncation", PairOptions{MaxLength: NoTruncation, Strategy: OnlyFirst}, pair(A, B), [2]int{}, nil, ""},
		// Without specials all of MaxLength is the budget: 8 -> 4 and 4, A then B.
		{"no specials", PairOptions{MaxLength: 8, NoSpecialTokens: true}, slices.Concat(A[:4], B[:4]), [2]int{3, 2}, nil, ""},
		{"no specials/left", PairOptions{MaxLength: 8, NoSpecialTokens: true, Side: SideLeft}, slices.Concat(A[3:], B[2:]), [2]int{3, 2}, nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := tok.EncodePair(a, b, c.opts)
			if c.errIs != nil {
				if !errors.Is(err, c.errIs) || !strings.Contains(err.Error(), c.errHas) {
					t.Fatalf("err = %v, want %v naming %q", err, c.errIs, c.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(e.IDs, c.want) {
				t.Fatalf("ids %v\nwant %v", e.IDs, c.want)
			}
			if e.TruncatedPerSequence != c.cut || e.Truncated != c.cut[0]+c.cut[1] {
				t.Fatalf("truncated %d %v, want %v", e.Truncated, e.TruncatedPerSequence, c.cut)
			}
		})
	}
}

// Sequence ids, type ids and offsets of pair 0, by hand: offsets count within each text, spaces
// trimmed (RobertaProcessing trim_offsets), {0, 0} for the specials.
func TestPairOffsetsAndSequenceIDs(t *testing.T) {
	tok := sentimentTokenizer(t)
	e, err := tok.EncodePair("A woman is slicing an onion.", "Someone is cutting a vegetable.", PairOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantOff := []Offset{{0, 0},
		{0, 1}, {2, 7}, {8, 10}, {11, 18}, {19, 21}, {22, 27}, {27, 28},
		{0, 0}, {0, 0},
		{0, 7}, {8, 10}, {11, 18}, {19, 20}, {21, 30}, {30, 31},
		{0, 0}}
	if !slices.Equal(e.Offsets, wantOff) {
		t.Errorf("offsets %v\nwant    %v", e.Offsets, wantOff)
	}
	wantSeq := []int{-1, 0, 0, 0, 0, 0, 0, 0, -1, -1, 1, 1, 1, 1, 1, 1, -1}
	if !slices.Equal(e.SequenceIDs, wantSeq) {
		t.Errorf("sequence ids %v", e.SequenceIDs)
	}
	if !slices.Equal(e.TypeIDs, make([]int, 17)) {
		t.Errorf("type ids %v", e.TypeIDs)
	}
	// Left truncation keeps offsets in the original texts: A keeps "slicing an onion.", B
	// "cutting a vegetable." (longest_first, budget 8: 4 and 4).
	e, _ = tok.EncodePair("A woman is slicing an onion.", "Someone is cutting a vegetable.", PairOptions{MaxLength: 12, Side: SideLeft})
	if want := []Offset{{0, 0}, {11, 18}, {19, 21}, {22, 27}, {27, 28}, {0, 0}, {0, 0}, {11, 18}, {19, 20}, {21, 30}, {30, 31}, {0, 0}}; !slices.Equal(e.Offsets, want) {
		t.Errorf("left-truncated offsets %v\nwant %v", e.Offsets, want)
	}
	// A special token written in the text belongs to its text: sequence id 0, mask 0.
	e, _ = tok.EncodePair("Is <mask> blue?", "The sky is blue.", PairOptions{})
	if e.IDs[3] != 50264 || e.SequenceIDs[3] != 0 || e.SpecialTokensMask[3] != 0 || e.Offsets[3] != (Offset{3, 9}) {
		t.Errorf("<mask> in A: id %d seq %d mask %d offset %v", e.IDs[3], e.SequenceIDs[3], e.SpecialTokensMask[3], e.Offsets[3])
	}
	// Single texts carry sequence ids too: 0 for the text, NoSequence for <s> and </s>.
	s := tok.Encode("Hello world")
	if !slices.Equal(s.SequenceIDs, []int{-1, 0, 0, -1}) || !slices.Equal(s.TypeIDs, []int{0, 0, 0, 0}) || s.TruncatedPerSequence != [2]int{} {
		t.Errorf("single: seq %v type %v", s.SequenceIDs, s.TypeIDs)
	}
	s, _ = tok.EncodeWith(strings.Repeat("a ", 20), Options{MaxLength: 10})
	// "a", 19 × " a", " ": 21 tokens, 8 kept.
	if s.TruncatedPerSequence != [2]int{s.Truncated, 0} || s.Truncated != 13 {
		t.Errorf("single truncated %d %v", s.Truncated, s.TruncatedPerSequence)
	}
}

// An empty side follows the template like any other: its tokens are simply absent.
func TestPairEmptySide(t *testing.T) {
	tok := sentimentTokenizer(t)
	const a, b = "A woman is slicing an onion.", "Someone is cutting a vegetable."
	A := []int{250, 693, 16, 40341, 41, 19543, 4}
	B := []int{29375, 16, 3931, 10, 16090, 4}
	for _, c := range []struct {
		name  string
		a, b  string
		opts  PairOptions
		want  []int
		seq   []int
		errIs error
	}{
		{"empty a", "", b, PairOptions{}, slices.Concat([]int{0, 2, 2}, B, []int{2}), wantSeqIDs(0, 6), nil},
		{"empty b", a, "", PairOptions{}, slices.Concat([]int{0}, A, []int{2, 2, 2}), wantSeqIDs(7, 0), nil},
		{"both empty", "", "", PairOptions{}, []int{0, 2, 2, 2}, wantSeqIDs(0, 0), nil},
		{"both empty/max 4", "", "", PairOptions{MaxLength: 4, Strategy: OnlySecond}, []int{0, 2, 2, 2}, wantSeqIDs(0, 0), nil},
		// budget 4: the empty A keeps its 0, B takes max(0, 4 - 0) = 4.
		{"empty a/longest 8", "", b, PairOptions{MaxLength: 8}, slices.Concat([]int{0, 2, 2}, B[:4], []int{2}), wantSeqIDs(0, 4), nil},
		{"empty a/only_second 8", "", b, PairOptions{MaxLength: 8, Strategy: OnlySecond}, slices.Concat([]int{0, 2, 2}, B[:4], []int{2}), wantSeqIDs(0, 4), nil},
		{"empty b/longest 8 left", a, "", PairOptions{MaxLength: 8, Side: SideLeft}, slices.Concat([]int{0}, A[3:], []int{2, 2, 2}), wantSeqIDs(4, 0), nil},
		{"empty a/only_first 8", "", b, PairOptions{MaxLength: 8, Strategy: OnlyFirst}, nil, nil, ErrSequenceTooShort},
		{"empty b/only_second 8", a, "", PairOptions{MaxLength: 8, Strategy: OnlySecond}, nil, nil, ErrSequenceTooShort},
		// Nothing to remove: no error even though the chosen side is empty.
		{"empty a/only_first fits", "", b, PairOptions{MaxLength: 10, Strategy: OnlyFirst}, slices.Concat([]int{0, 2, 2}, B, []int{2}), wantSeqIDs(0, 6), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := tok.EncodePair(c.a, c.b, c.opts)
			if c.errIs != nil {
				if !errors.Is(err, c.errIs) {
					t.Fatalf("err = %v, want %v", err, c.errIs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(e.IDs, c.want) || !slices.Equal(e.SequenceIDs, c.seq) {
				t.Fatalf("ids %v seq %v\nwant %v seq %v", e.IDs, e.SequenceIDs, c.want, c.seq)
			}
			for i, id := range e.IDs {
				if special := e.SequenceIDs[i] == NoSequence; special != (e.SpecialTokensMask[i] == 1) || special && e.Offsets[i] != (Offset{}) {
					t.Fatalf("token %d (%d): seq %d mask %d offset %v", i, id, e.SequenceIDs[i], e.SpecialTokensMask[i], e.Offsets[i])
				}
			}
		})
	}
}

// truncatePair against tokenizers' own unit tests (truncate_encodings_longest_first and
// truncate_encodings_empty in src/utils/truncation.rs): lengths 0, 2, 4 and 8, max_length 7.
func TestTruncatePairHF(t *testing.T) {
	for _, c := range []struct{ n1, n2, max, k1, k2 int }{
		{0, 0, 7, 0, 0}, {0, 2, 7, 0, 2}, {0, 4, 7, 0, 4}, {0, 8, 7, 0, 7},
		{2, 0, 7, 2, 0}, {2, 2, 7, 2, 2}, {2, 4, 7, 2, 4}, {2, 8, 7, 2, 5},
		{4, 0, 7, 4, 0}, {4, 2, 7, 4, 2}, {4, 4, 7, 3, 4}, {4, 8, 7, 3, 4},
		{8, 0, 7, 7, 0}, {8, 2, 7, 5, 2}, {8, 4, 7, 4, 3}, {8, 8, 7, 3, 4},
		{0, 2, 0, 0, 0}, {4, 4, 0, 0, 0}, {8, 8, 0, 0, 0},
		// and the case tokenizers special-cases: the shorter text alone exceeds the budget.
		{10, 12, 7, 3, 4}, {12, 10, 7, 4, 3},
		{5, 5, -1, 5, 5}, // no truncation
	} {
		t.Run(fmt.Sprintf("%d+%d/%d", c.n1, c.n2, c.max), func(t *testing.T) {
			k1, k2, err := truncatePair(c.n1, c.n2, c.max, LongestFirst)
			if err != nil || k1 != c.k1 || k2 != c.k2 {
				t.Fatalf("got %d %d %v, want %d %d", k1, k2, err, c.k1, c.k2)
			}
		})
	}
	if _, _, err := truncatePair(3, 3, 4, TruncationStrategy(9)); err == nil {
		t.Error("invalid strategy accepted")
	}
}

func TestParseTruncationStrategy(t *testing.T) {
	for _, c := range []struct {
		in   string
		want TruncationStrategy
		ok   bool
	}{
		{"longest_first", LongestFirst, true},
		{"LONGEST_FIRST", LongestFirst, true},
		{"Only_First", OnlyFirst, true},
		{"only_second", OnlySecond, true},
		{"ONLY_SECOND", OnlySecond, true},
		{"", 0, false},
		{"longest", 0, false},
		{"only-first", 0, false},
		{" only_first", 0, false},
		{"do_not_truncate", 0, false},
		{"LongestFirst", 0, false}, // tokenizer.json's spelling is not a request name
	} {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseTruncationStrategy(c.in)
			if c.ok {
				if err != nil || got != c.want || got.String() != strings.ToLower(c.in) {
					t.Fatalf("got %v %v", got, err)
				}
				return
			}
			var ue *UnknownStrategyError
			if !errors.As(err, &ue) || ue.Name != c.in || !strings.Contains(err.Error(), "only_second") {
				t.Fatalf("err = %v, want an *UnknownStrategyError for %q", err, c.in)
			}
		})
	}
	long := strings.Repeat("x", 10000)
	_, err := ParseTruncationStrategy(long)
	if err == nil || len(err.Error()) > 200 {
		t.Errorf("a long name makes a %d-byte message", len(err.Error()))
	}
	// As a JSON string, through MarshalText / UnmarshalText.
	var v struct{ S TruncationStrategy }
	if err := json.Unmarshal([]byte(`{"S":"Only_Second"}`), &v); err != nil || v.S != OnlySecond {
		t.Fatalf("unmarshal: %v %v", v.S, err)
	}
	if b, err := json.Marshal(v); err != nil || string(b) != `{"S":"only_second"}` {
		t.Fatalf("marshal: %s %v", b, err)
	}
	var ue *UnknownStrategyError
	if err := json.Unmarshal([]byte(`{"S":"middle"}`), &v); !errors.As(err, &ue) {
		t.Fatalf("unmarshal middle: %v", err)
	}
	if TruncationStrategy(7).String() != "TruncationStrategy(7)" {
		t.Error(TruncationStrategy(7).String())
	}
	if _, err := json.Marshal(TruncationStrategy(7)); err == nil {
		t.Error("marshalled an invalid strategy")
	}
}

// setPost replaces tokenizer.json's post_processor.
func setPost(post map[string]any) func(map[string]any) {
	return func(m map[string]any) { m["post_processor"] = post }
}

func seqPiece(id string, typeID int) map[string]any {
	return map[string]any{"Sequence": map[string]any{"id": id, "type_id": typeID}}
}

func specialPiece(id string, typeID int) map[string]any {
	return map[string]any{"SpecialToken": map[string]any{"id": id, "type_id": typeID}}
}

func specialTok(id string, ids []int, tokens []string) map[string]any {
	return map[string]any{"id": id, "ids": ids, "tokens": tokens}
}

// robertaTemplate is RobertaProcessing written as a TemplateProcessing, with the double </s> as
// one special token of two ids.
func robertaTemplate() map[string]any {
	return map[string]any{
		"type":   "TemplateProcessing",
		"single": []any{specialPiece("<s>", 0), seqPiece("A", 0), specialPiece("</s>", 0)},
		"pair":   []any{specialPiece("<s>", 0), seqPiece("A", 0), specialPiece("</s></s>", 0), seqPiece("B", 0), specialPiece("</s>", 0)},
		"special_tokens": map[string]any{
			"<s>":      specialTok("<s>", []int{0}, []string{"<s>"}),
			"</s>":     specialTok("</s>", []int{2}, []string{"</s>"}),
			"</s></s>": specialTok("</s></s>", []int{2, 2}, []string{"</s>", "</s>"}),
		},
	}
}

func TestTemplateProcessing(t *testing.T) {
	// The RoBERTa layout through TemplateProcessing gives the golden ids, pairs and singles.
	tok, err := Load(editedModelDir(t, setPost(robertaTemplate()), nil))
	if err != nil {
		t.Fatal(err)
	}
	if tok.NumSpecialTokensToAdd(true) != 4 || tok.NumSpecialTokensToAdd(false) != 2 || tok.CLSID() != 0 || tok.SEPID() != 2 {
		t.Fatalf("added %d/%d cls %d sep %d", tok.NumSpecialTokensToAdd(false), tok.NumSpecialTokensToAdd(true), tok.CLSID(), tok.SEPID())
	}
	for i, it := range pairsGolden(t) {
		for _, c := range []struct {
			maxLen int
			want   []int
		}{{512, it.IDs}, {64, it.IDs64}} {
			e, err := tok.EncodePair(it.A, it.B, PairOptions{MaxLength: c.maxLen})
			if err != nil {
				t.Fatal(err)
			}
			if d := firstDiff("ids", e.IDs, c.want); d != "" {
				t.Errorf("pair %d at %d: %s", i, c.maxLen, d)
			}
		}
	}
	for _, it := range loadGolden(t) {
		if d := firstDiff("ids", tok.Encode(it.Text).IDs, orDefault(it.IDsTruncated512, it.IDs)); d != "" {
			t.Errorf("%.30q: %s", it.Text, d)
		}
	}
	// TemplateProcessing trims no offsets, and tokenizer_config's trim_offsets (true here) does
	// not apply to it: "Ġis" spans the space before "is".
	e, _ := tok.EncodePair("A woman", "Someone is", PairOptions{})
	if want := []Offset{{0, 0}, {0, 1}, {1, 7}, {0, 0}, {0, 0}, {0, 7}, {7, 10}, {0, 0}}; !slices.Equal(e.Offsets, want) {
		t.Errorf("template offsets %v, want %v", e.Offsets, want)
	}

	// A BERT-style template: three specials for a pair, type id 1 for B and its [SEP].
	tok, err = Load(editedModelDir(t, setPost(map[string]any{
		"type":   "TemplateProcessing",
		"single": []any{specialPiece("<s>", 0), seqPiece("A", 0), specialPiece("</s>", 0)},
		"pair":   []any{specialPiece("<s>", 0), seqPiece("A", 0), specialPiece("</s>", 0), seqPiece("B", 1), specialPiece("</s>", 1)},
		"special_tokens": map[string]any{
			"<s>":  specialTok("<s>", []int{0}, []string{"<s>"}),
			"</s>": specialTok("</s>", []int{2}, []string{"</s>"}),
		},
	}), nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name             string
		opts             PairOptions
		ids, types, seqs []int
		errIs            error
	}{
		{"full", PairOptions{}, []int{0, 31414, 232, 2, 30086, 89, 2}, []int{0, 0, 0, 0, 1, 1, 1}, []int{-1, 0, 0, -1, 1, 1, -1}, nil},
		// budget 5 - 3 = 2: halves, 1 and 1.
		{"max 5", PairOptions{MaxLength: 5}, []int{0, 31414, 2, 30086, 2}, []int{0, 0, 0, 1, 1}, []int{-1, 0, -1, 1, -1}, nil},
		{"max 3", PairOptions{MaxLength: 3}, []int{0, 2, 2}, []int{0, 0, 1}, []int{-1, -1, -1}, nil},
		{"max 2", PairOptions{MaxLength: 2}, nil, nil, nil, ErrMaxLength},
		// No specials: the template's order and type ids stay.
		{"no specials", PairOptions{NoSpecialTokens: true}, []int{31414, 232, 30086, 89}, []int{0, 0, 1, 1}, []int{0, 0, 1, 1}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := tok.EncodePair("Hello world", "Hi there", c.opts)
			if c.errIs != nil {
				if !errors.Is(err, c.errIs) {
					t.Fatalf("err = %v, want %v", err, c.errIs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(e.IDs, c.ids) || !slices.Equal(e.TypeIDs, c.types) || !slices.Equal(e.SequenceIDs, c.seqs) {
				t.Fatalf("ids %v types %v seqs %v", e.IDs, e.TypeIDs, e.SequenceIDs)
			}
		})
	}
	if s := tok.Encode("Hello world"); !slices.Equal(s.IDs, []int{0, 31414, 232, 2}) || !slices.Equal(s.Offsets, []Offset{{0, 0}, {0, 5}, {5, 11}, {0, 0}}) {
		t.Errorf("single through the template: %v %v", s.IDs, s.Offsets)
	}
	if tok.NumSpecialTokensToAdd(true) != 3 {
		t.Errorf("pair adds %d", tok.NumSpecialTokensToAdd(true))
	}
}

func orDefault(a, b []int) []int {
	if a != nil {
		return a
	}
	return b
}

// A post-processor this package cannot follow exactly is refused at load, naming the field.
func TestPostProcessorLoadErrors(t *testing.T) {
	edit := func(f func(p map[string]any)) func(map[string]any) {
		return func(m map[string]any) {
			shrinkModel(m)
			p := robertaTemplate()
			f(p)
			m["post_processor"] = p
		}
	}
	for _, c := range []struct {
		name string
		edit func(map[string]any)
		want string
	}{
		{"unknown type", func(m map[string]any) {
			shrinkModel(m)
			m["post_processor"] = map[string]any{"type": "Sequence", "processors": []any{}}
		}, `post_processor.type "Sequence" is not supported`},
		{"bert", func(m map[string]any) {
			shrinkModel(m)
			m["post_processor"] = map[string]any{"type": "BertProcessing", "sep": []any{"</s>", 2}, "cls": []any{"<s>", 0}}
		}, `post_processor.type "BertProcessing"`},
		{"missing special", edit(func(p map[string]any) { delete(p["special_tokens"].(map[string]any), "</s></s>") }),
			`post_processor.pair[2]: special token "</s></s>" is not in post_processor.special_tokens`},
		{"no B", edit(func(p map[string]any) { p["pair"] = []any{seqPiece("A", 0), seqPiece("A", 1)} }), "must use both $A and $B"},
		{"B in single", edit(func(p map[string]any) { p["single"] = []any{seqPiece("B", 0)} }), "post_processor.single uses $B"},
		{"sequence C", edit(func(p map[string]any) { p["pair"] = []any{seqPiece("A", 0), seqPiece("C", 0)} }), `post_processor.pair[1]: sequence "C"`},
		{"bad piece", edit(func(p map[string]any) { p["pair"] = []any{map[string]any{"Other": 1}} }), "post_processor.pair[0]: want"},
		{"string template", edit(func(p map[string]any) { p["single"] = "<s> $A </s>" }), "post_processor.single:"},
		{"no pair", edit(func(p map[string]any) { delete(p, "pair") }), "post_processor.pair is missing"},
		{"ids vs tokens", edit(func(p map[string]any) {
			p["special_tokens"].(map[string]any)["<s>"] = specialTok("<s>", []int{0, 0}, []string{"<s>"})
		}), `special_tokens["<s>"]: 2 ids but 1 tokens`},
		{"outside vocab", edit(func(p map[string]any) {
			p["special_tokens"].(map[string]any)["<s>"] = specialTok("<s>", []int{1 << 20}, []string{"<s>"})
		}), `TemplateProcessing token "<s>" has id 1048576, outside the vocabulary`},
		{"disagree", edit(func(p map[string]any) {
			p["special_tokens"].(map[string]any)["<s>"] = specialTok("<s>", []int{2}, []string{"<s>"})
		}), `TemplateProcessing token "<s>"=2 disagrees with the vocabulary ("</s>")`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(editedModelDir(t, c.edit, nil))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// FuzzEncodePair: EncodePair never panics; the pair is A's tokens and B's, each as Encode gives
// them, cut to fit, in the RoBERTa layout; the strategies fail only with ErrSequenceTooShort.
// Seeds: the golden pairs.
func FuzzEncodePair(f *testing.F) {
	tok := sentimentTokenizer(f)
	for _, it := range pairsGolden(f) {
		f.Add(it.A, it.B, uint8(64))
	}
	f.Add("", "", uint8(4))
	f.Fuzz(func(t *testing.T, a, b string, maxLen uint8) {
		fa, _ := tok.EncodeWith(a, Options{MaxLength: NoTruncation})
		fb, _ := tok.EncodeWith(b, Options{MaxLength: NoTruncation})
		na, nb := fa.Len()-2, fb.Len()-2
		for _, s := range []TruncationStrategy{LongestFirst, OnlyFirst, OnlySecond} {
			for _, side := range []Side{SideRight, SideLeft} {
				e, err := tok.EncodePair(a, b, PairOptions{MaxLength: int(maxLen), Strategy: s, Side: side})
				switch {
				case maxLen < 4:
					if !errors.Is(err, ErrMaxLength) {
						t.Fatalf("max %d: %v", maxLen, err)
					}
					continue
				case errors.Is(err, ErrSequenceTooShort) && s != LongestFirst:
					continue
				case err != nil:
					t.Fatalf("%v: %v", s, err)
				}
				ka, kb := na-e.TruncatedPerSequence[0], nb-e.TruncatedPerSequence[1]
				if e.Len() > int(maxLen) || e.Len() != ka+kb+4 || ka < 0 || kb < 0 {
					t.Fatalf("%v: %d tokens (%d+%d kept of %d+%d) for max %d", s, e.Len(), ka, kb, na, nb, maxLen)
				}
				// Budget 0 (MaxLength 4) empties both texts whatever the strategy, as
				// tokenizers' max_length == 0 rule does; otherwise only_* keep the other text.
				if maxLen > 4 && (s == OnlyFirst && kb != nb || s == OnlySecond && ka != na) {
					t.Fatalf("%v cut the other text", s)
				}
				loA, loB := 0, 0
				if side == SideLeft {
					loA, loB = na-ka, nb-kb
				}
				want := slices.Concat([]int{0}, fa.IDs[1+loA:1+loA+ka], []int{2, 2}, fb.IDs[1+loB:1+loB+kb], []int{2})
				if !slices.Equal(e.IDs, want) || !slices.Equal(e.SequenceIDs, wantSeqIDs(ka, kb)) {
					t.Fatalf("%v %v: ids %v, want %v", s, side, e.IDs, want)
				}
			}
		}
	})
}
