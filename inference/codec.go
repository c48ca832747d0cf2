package inference

import (
	"fmt"

	"github.com/coldserve/coldserve/tokenizer"
)

// Token is one token of an input: its id, its text, where it came from in the input (Unicode
// code points, as Python counts them) and whether it is special (<s>, </s>, ...).
type Token struct {
	ID         int32
	Text       string
	Start, End int
	Special    bool
}

// codec adapts package tokenizer to what requests need, in one place: encodings with int32
// ids for the encoder and token details for the API, and decoding that refuses unknown ids.
type codec struct{ tok *tokenizer.Tokenizer }

// encoding is one tokenized input.
type encoding struct {
	ids     []int32
	tokens  []Token
	dropped int // text tokens the tokenizer removed to respect the limit
}

// fullLength is the input's token count before truncation, specials included.
func (e encoding) fullLength() int { return len(e.ids) + e.dropped }

// loadCodec loads the tokenizer files of a checkpoint directory.
func loadCodec(dir string) (*codec, error) {
	tok, err := tokenizer.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer %s: %w", dir, err)
	}
	return &codec{tok: tok}, nil
}

// encode tokenizes texts in parallel. maxLen caps each input including specials; 0 means no cap.
func (c *codec) encode(texts []string, maxLen int, specials bool) ([]encoding, error) {
	opts := tokenizer.Options{MaxLength: maxLen, Side: tokenizer.SideRight, NoSpecialTokens: !specials}
	if maxLen == 0 {
		opts.MaxLength = tokenizer.NoTruncation
	}
	encs, err := c.tok.EncodeBatch(texts, opts)
	if err != nil {
		return nil, fmt.Errorf("tokenize: %w", err)
	}
	out := make([]encoding, len(encs))
	for i, e := range encs {
		ids := make([]int32, len(e.IDs))
		toks := make([]Token, len(e.IDs))
		for j, id := range e.IDs {
			ids[j] = int32(id)
			toks[j] = Token{ID: int32(id), Text: e.Tokens[j], Start: e.Offsets[j].Start,
				End: e.Offsets[j].End, Special: c.tok.IsSpecial(id)}
		}
		out[i] = encoding{ids: ids, tokens: toks, dropped: e.Truncated}
	}
	return out, nil
}

// decode turns ids back into text; an id outside the vocabulary is an error.
func (c *codec) decode(ids []int32, skipSpecial bool) (string, error) {
	vocab := c.tok.VocabSize()
	conv := make([]int, len(ids))
	for i, id := range ids {
		if id < 0 || int(id) >= vocab {
			return "", fmt.Errorf("id %d at position %d is outside the vocabulary of %d tokens", id, i, vocab)
		}
		conv[i] = int(id)
	}
	return c.tok.Decode(conv, skipSpecial), nil
}

// probeIDs is "<s></s>": the shortest valid input, used to check that a model runs.
func (c *codec) probeIDs() []int32 {
	return []int32{int32(c.tok.CLSID()), int32(c.tok.SEPID())}
}
