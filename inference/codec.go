package inference

import (
	"context"
	"errors"
	"fmt"

	"github.com/coldserve/coldserve/tokenizer"
)

// Token is one token of an input: its id, its text, where it came from in the input (Unicode
// code points, as Python counts them; in a pair, within its own text), whether it is special
// (<s>, </s>, ...) and which text of a pair it belongs to.
type Token struct {
	ID         int32
	Text       string
	Start, End int
	Special    bool
	// Sequence is 0 for a token of the text (the first text of a pair), 1 for one of a pair's
	// second text, and tokenizer.NoSequence for the special tokens the template adds.
	Sequence int
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

// tokenizeChunk is how many texts (or pairs) are tokenized between two looks at the request's
// context: a request whose client went away, whose deadline passed or that a shutdown gave up
// on stops within one chunk instead of tokenizing all its inputs first.
const tokenizeChunk = 16

// encode tokenizes inputs, texts and pairs in parallel, chunk by chunk while ctx lasts (it
// returns ctx.Err() otherwise). maxLen caps each input including specials (0: no cap), cut as
// trunc says; with trunc.Refuse the inputs are still cut, with longest_first, and a caller
// refuses those whose dropped count is not zero. Id inputs are checked against the vocabulary
// and cut at maxLen; specials adds nothing to them.
func (c *codec) encode(ctx context.Context, inputs []Input, maxLen int, trunc Truncation, specials bool) ([]encoding, error) {
	if maxLen == 0 {
		maxLen = tokenizer.NoTruncation
	}
	strategy := trunc.Strategy
	if trunc.Refuse {
		strategy = tokenizer.LongestFirst // never fails: the caller only asks what was dropped
	}
	var texts []string
	var pairs [][2]string
	var textAt, pairAt []int // input index of each text and pair
	out := make([]encoding, len(inputs))
	for i, in := range inputs {
		switch {
		case in.isIDs():
			e, err := c.encodeIDs(in.IDs, maxLen, trunc.Side)
			if err != nil {
				return nil, errorf(ErrInvalidInput, "inputs[%d]: %v", i, err)
			}
			out[i] = e
		case in.Pair:
			pairs, pairAt = append(pairs, [2]string{in.Text, in.Second}), append(pairAt, i)
		default:
			texts, textAt = append(texts, in.Text), append(textAt, i)
		}
	}
	for start := 0; start < len(texts); start += tokenizeChunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		end := min(start+tokenizeChunk, len(texts))
		encs, err := c.tok.EncodeBatch(texts[start:end], tokenizer.Options{MaxLength: maxLen, Side: trunc.Side, NoSpecialTokens: !specials})
		if err != nil {
			return nil, tokenizeError(err, textAt[start])
		}
		for j, e := range encs {
			out[textAt[start+j]] = c.fromTokenizer(e)
		}
	}
	opts := tokenizer.PairOptions{MaxLength: maxLen, Side: trunc.Side, Strategy: strategy, NoSpecialTokens: !specials}
	for start := 0; start < len(pairs); start += tokenizeChunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		chunk := pairs[start:min(start+tokenizeChunk, len(pairs))]
		encs, err := c.tok.EncodePairBatch(chunk, opts)
		if err != nil {
			// Name the input that failed: find it again, one pair at a time (errors only).
			for j, p := range chunk {
				if _, err := c.tok.EncodePair(p[0], p[1], opts); err != nil {
					return nil, tokenizeError(err, pairAt[start+j])
				}
			}
			return nil, fmt.Errorf("tokenize pairs: %w", err)
		}
		for j, e := range encs {
			out[pairAt[start+j]] = c.fromTokenizer(e)
		}
	}
	return out, nil
}

// tokenizeError explains why input i could not be tokenized: the limit leaves no room for the
// template's specials, or a pair's only_first/only_second side is too short to give up enough
// tokens. Those are the request's options at fault; anything else is the server's.
func tokenizeError(err error, i int) error {
	switch {
	case errors.Is(err, tokenizer.ErrSequenceTooShort):
		return &Error{Kind: ErrInvalidInput, Err: err, Msg: fmt.Sprintf(
			"inputs[%d]: the truncation strategy cannot cut this pair to the token limit, because the text it may cut is too short (%v): use longest_first", i, err)}
	case errors.Is(err, tokenizer.ErrMaxLength):
		return &Error{Kind: ErrInvalidInput, Err: err, Msg: fmt.Sprintf(
			"inputs[%d]: the token limit leaves no room for the special tokens: %v", i, err)}
	}
	return fmt.Errorf("tokenize inputs[%d]: %w", i, err)
}

// fromTokenizer converts one tokenizer encoding.
func (c *codec) fromTokenizer(e tokenizer.Encoding) encoding {
	ids := make([]int32, len(e.IDs))
	toks := make([]Token, len(e.IDs))
	for j, id := range e.IDs {
		ids[j] = int32(id)
		toks[j] = Token{ID: int32(id), Text: e.Tokens[j], Start: e.Offsets[j].Start, End: e.Offsets[j].End,
			Special: c.tok.IsSpecial(id), Sequence: e.SequenceIDs[j]}
	}
	return encoding{ids: ids, tokens: toks, dropped: e.Truncated}
}

// encodeIDs checks ids against the vocabulary and cuts them to maxLen (-1: no cap) at side.
func (c *codec) encodeIDs(ids []int32, maxLen int, side tokenizer.Side) (encoding, error) {
	if len(ids) == 0 {
		return encoding{}, errors.New("the token id list is empty")
	}
	if err := c.checkIDs(ids); err != nil {
		return encoding{}, err
	}
	kept, dropped := ids, 0
	if maxLen >= 0 && len(ids) > maxLen {
		dropped = len(ids) - maxLen
		if side == tokenizer.SideLeft {
			kept = ids[dropped:]
		} else {
			kept = ids[:maxLen]
		}
	}
	e := encoding{ids: append([]int32(nil), kept...), tokens: make([]Token, len(kept)), dropped: dropped}
	for j, id := range kept {
		text, _ := c.tok.IDToToken(int(id))
		special := c.tok.IsSpecial(int(id))
		seq := 0
		if special {
			seq = tokenizer.NoSequence
		}
		e.tokens[j] = Token{ID: id, Text: text, Special: special, Sequence: seq}
	}
	return e, nil
}

// checkIDs refuses an id outside the vocabulary.
func (c *codec) checkIDs(ids []int32) error {
	vocab := c.tok.VocabSize()
	for i, id := range ids {
		if id < 0 || int(id) >= vocab {
			return fmt.Errorf("id %d at position %d is outside the vocabulary of %d tokens", id, i, vocab)
		}
	}
	return nil
}

// decode turns ids back into text; an id outside the vocabulary is an error.
func (c *codec) decode(ids []int32, skipSpecial bool) (string, error) {
	if err := c.checkIDs(ids); err != nil {
		return "", err
	}
	conv := make([]int, len(ids))
	for i, id := range ids {
		conv[i] = int(id)
	}
	return c.tok.Decode(conv, skipSpecial), nil
}

// probeIDs is "<s></s>": the shortest valid input, used to check that a model runs.
func (c *codec) probeIDs() []int32 {
	return []int32{int32(c.tok.CLSID()), int32(c.tok.SEPID())}
}
