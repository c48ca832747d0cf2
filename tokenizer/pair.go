package tokenizer

import "fmt"

// EncodePair encodes a sentence pair (premise and hypothesis, question and passage) the way
// Hugging Face's tokenizer(a, b, truncation=...) does with a fast tokenizer:
//
//  1. a and b are tokenized separately, each exactly as Encode would tokenize it alone (the
//     offsets of each count within its own text).
//  2. If the two together exceed MaxLength minus the special tokens of the pair template (4 for
//     RoBERTa), they are truncated by o.Strategy at o.Side, by tokenizers' truncate_encodings:
//     LongestFirst cuts the longer text down to the budget the shorter one leaves, and when
//     both are longer than half of it, splits it evenly (the longer text, or b on a tie, gets
//     the odd token); OnlyFirst / OnlySecond take everything from one text and fail with
//     ErrSequenceTooShort when it cannot give enough - including when it would have to give
//     all of its tokens, as tokenizers refuses to empty it.
//  3. The post-processor's pair template lays them out: for RoBERTa <s> A </s></s> B </s>, every
//     type id 0, sequence ids 0 for A's tokens, 1 for B's, NoSequence for the four specials.
//
// An empty side is no special case: its sequence is empty and the template stays, so
// EncodePair("", b) is <s></s></s> B </s> and EncodePair("", "") is <s></s></s></s>. (Python
// transformers, by contrast, treats an empty text_pair as no pair at all and returns
// <s> A </s>; a caller that wants that should call Encode.)
//
// A MaxLength below the template's special tokens is ErrMaxLength; exactly as many leaves the
// texts no room, so both are emptied whatever the strategy (tokenizers' max_length 0 rule).
// Text that is not valid UTF-8 is repaired as Encode describes. The errors are ErrMaxLength and
// ErrSequenceTooShort, wrapped with what was asked.
func (t *Tokenizer) EncodePair(a, b string, o PairOptions) (Encoding, error) {
	limit, left, err := t.budget(o.MaxLength, o.Side, !o.NoSpecialTokens, t.post.pair.added())
	if err != nil {
		return Encoding{}, err
	}
	return t.encodePair(a, b, limit, left, o.Strategy, !o.NoSpecialTokens)
}

// EncodePairBatch encodes pairs with the same options, spreading the work over GOMAXPROCS
// goroutines. Each result equals EncodePair on its pair alone; when some pairs fail (only_first
// on a pair whose first text is too short), the error names the first of them.
func (t *Tokenizer) EncodePairBatch(pairs [][2]string, o PairOptions) ([]Encoding, error) {
	limit, left, err := t.budget(o.MaxLength, o.Side, !o.NoSpecialTokens, t.post.pair.added())
	if err != nil {
		return nil, err
	}
	out := make([]Encoding, len(pairs))
	errs := make([]error, len(pairs))
	parallel(len(pairs), func(i int) {
		out[i], errs[i] = t.encodePair(pairs[i][0], pairs[i][1], limit, left, o.Strategy, !o.NoSpecialTokens)
	})
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("pair %d: %w", i, err)
		}
	}
	return out, nil
}

func (t *Tokenizer) encodePair(a, b string, limit int, left bool, s TruncationStrategy, specials bool) (Encoding, error) {
	a, b = ValidUTF8(a), ValidUTF8(b)
	sa, sb := statePool.Get().(*encodeState), statePool.Get().(*encodeState)
	defer sa.release()
	defer sb.release()
	t.tokenize(sa, a)
	t.tokenize(sb, b)
	na, nb := len(sa.ids), len(sb.ids)
	ka, kb, err := truncatePair(na, nb, limit, s)
	if err != nil {
		return Encoding{}, fmt.Errorf("%w (texts of %d and %d tokens, room for %d)", err, na, nb, limit)
	}
	seqs := [2]span{window(a, sa, ka, left), window(b, sb, kb, left)}
	e := t.assemble(t.post.pair, seqs[:], specials)
	e.TruncatedPerSequence = [2]int{na - ka, nb - kb}
	e.Truncated = na - ka + nb - kb
	return e, nil
}
