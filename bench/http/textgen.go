package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/coldserve/coldserve/tokenizer"
)

// textGen makes texts of an exact token count: words that the tokenizer encodes as one token
// each when preceded by a space, so " w1 w2 … wk" is k tokens, k+2 with <s> and </s>.
type textGen struct {
	words    []string
	ids      []int32
	cls, sep int32
}

func newTextGen(dir string, seed uint64) (*textGen, error) {
	tok, err := tokenizer.Load(dir)
	if err != nil {
		return nil, err
	}
	g := &textGen{cls: int32(tok.CLSID()), sep: int32(tok.SEPID())}
	noSpecials := tokenizer.Options{MaxLength: tokenizer.NoTruncation, NoSpecialTokens: true}
	for id := 0; id < tok.VocabSize() && len(g.words) < 8000; id++ {
		t, ok := tok.IDToToken(id)
		w, spaced := strings.CutPrefix(t, "Ġ")
		if !ok || !spaced || len(w) < 2 || strings.Trim(w, "abcdefghijklmnopqrstuvwxyz") != "" {
			continue
		}
		e, err := tok.EncodeWith(" "+w, noSpecials)
		if err != nil || len(e.IDs) != 1 || e.IDs[0] != id {
			continue
		}
		g.words, g.ids = append(g.words, w), append(g.ids, int32(id))
	}
	if len(g.words) < 100 {
		return nil, fmt.Errorf("only %d single-token words in the vocabulary of %s", len(g.words), dir)
	}
	// Check the premise on random texts: the tokenizer agrees with the ids we predict.
	r := rand.New(rand.NewPCG(seed, 99))
	for range 200 {
		text, ids := g.text(r, 1+r.IntN(62))
		e, err := tok.EncodeWith(text, tokenizer.Options{MaxLength: tokenizer.NoTruncation})
		if err != nil {
			return nil, err
		}
		got := make([]int32, len(e.IDs))
		for i, id := range e.IDs {
			got[i] = int32(id)
		}
		if !slices.Equal(got, ids) {
			return nil, fmt.Errorf("text %q: tokenizer gives %v, predicted %v", text, got, ids)
		}
	}
	return g, nil
}

// text returns a text of n words and its token ids with specials (n+2 tokens).
func (g *textGen) text(r *rand.Rand, n int) (string, []int32) {
	var b strings.Builder
	ids := make([]int32, 0, n+2)
	ids = append(ids, g.cls)
	for range n {
		k := r.IntN(len(g.words))
		b.WriteByte(' ')
		b.WriteString(g.words[k])
		ids = append(ids, g.ids[k])
	}
	return b.String(), append(ids, g.sep)
}
