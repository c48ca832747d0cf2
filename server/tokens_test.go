package server

import (
	"slices"
	"testing"

	"github.com/coldserve/coldserve/inference"
)

// /v1/tokenize gives Hugging Face's ids, token strings and offsets for all 101 golden texts
// (no truncation: the 6000-character text keeps all its tokens).
func TestTokenizeMatchesGolden(t *testing.T) {
	var g tokenizerGolden
	readGolden(t, "tokenizer.json", &g)
	s := newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir})
	texts := make([]string, len(g.Items))
	for i, it := range g.Items {
		texts[i] = it.Text
	}
	for _, c := range chunks(len(texts), 64) {
		var resp struct {
			Tokens [][]tokenJSON `json:"tokens"`
		}
		call(t, s.Handler(), "/v1/tokenize", map[string]any{"inputs": texts[c[0]:c[1]]}, 200, &resp)
		for i, toks := range resp.Tokens {
			it := g.Items[c[0]+i]
			ids, strs, offs := []int32{}, []string{}, [][2]int{}
			for _, tok := range toks {
				ids = append(ids, tok.ID)
				strs = append(strs, tok.Text)
				offs = append(offs, [2]int{tok.Start, tok.End})
			}
			if !slices.Equal(ids, it.IDs) || !slices.Equal(strs, it.Tokens) || !slices.Equal(offs, it.Offsets) {
				t.Errorf("%.40q:\n ids %v\nwant %v\n tokens %q\nwant %q\n offsets %v\nwant %v",
					it.Text, ids, it.IDs, strs, it.Tokens, offs, it.Offsets)
			}
		}
	}
}

func TestTokenizeWithoutSpecialTokens(t *testing.T) {
	var g tokenizerGolden
	readGolden(t, "tokenizer.json", &g)
	s := newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir})
	it := g.Items[7] // "Hello world"
	var resp struct {
		Tokens [][]tokenJSON `json:"tokens"`
	}
	call(t, s.Handler(), "/v1/tokenize", map[string]any{"inputs": it.Text, "add_special_tokens": false}, 200, &resp)
	var ids []int32
	for _, tok := range resp.Tokens[0] {
		ids = append(ids, tok.ID)
		if tok.Special {
			t.Errorf("token %+v marked special", tok)
		}
	}
	if want := it.IDs[1 : len(it.IDs)-1]; !slices.Equal(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
}

// /v1/decode reverses the golden ids to the golden text (skipping specials by default), for a
// flat list and a list of lists.
func TestDecodeMatchesGolden(t *testing.T) {
	var g tokenizerGolden
	readGolden(t, "tokenizer.json", &g)
	s := newServer(t, Options{}, inference.ModelConfig{Dir: tinyDir})
	for _, c := range chunks(len(g.Items), 64) {
		ids := make([][]int32, 0, c[1]-c[0])
		for _, it := range g.Items[c[0]:c[1]] {
			ids = append(ids, it.IDs)
		}
		var resp struct {
			Texts []string `json:"texts"`
		}
		call(t, s.Handler(), "/v1/decode", map[string]any{"ids": ids}, 200, &resp)
		for i, text := range resp.Texts {
			if it := g.Items[c[0]+i]; text != it.Decoded {
				t.Errorf("decode %v = %q, want %q", it.IDs, text, it.Decoded)
			}
		}
	}
	var one struct {
		Texts []string `json:"texts"`
	}
	call(t, s.Handler(), "/v1/decode", `{"ids": [0, 31414, 232, 2], "skip_special_tokens": false}`, 200, &one)
	if len(one.Texts) != 1 || one.Texts[0] != "<s>Hello world</s>" {
		t.Errorf("flat ids with specials decoded to %q", one.Texts)
	}
}
