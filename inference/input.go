package inference

import (
	"slices"
	"unicode/utf8"

	"github.com/coldserve/coldserve/tokenizer"
)

// Input is one input of a request: a text, a sentence pair, or token ids.
//
// A pair is encoded as the model's pair template says (<s> A </s></s> B </s> for RoBERTa): Text
// is the first text (an NLI premise, a reranker's query) and Second the other. Token ids are
// in the model's vocabulary and are used as given, special tokens included: nothing is added,
// as Text-Embeddings-Inference does with ids (send what Tokenize returns).
type Input struct {
	Text   string
	Second string
	Pair   bool
	IDs    []int32 // non-nil: the input is these ids, and Text and Second are unused
}

// TextInput is the input of one text.
func TextInput(s string) Input { return Input{Text: s} }

// PairInput is the input of the sentence pair (a, b).
func PairInput(a, b string) Input { return Input{Text: a, Second: b, Pair: true} }

// IDsInput is the input of token ids (specials included, as given).
func IDsInput(ids []int32) Input { return Input{IDs: ids} }

// TextInputs turns texts into inputs.
func TextInputs(texts []string) []Input {
	out := make([]Input, len(texts))
	for i, s := range texts {
		out[i] = TextInput(s)
	}
	return out
}

// isIDs reports whether the input was given as token ids.
func (in Input) isIDs() bool { return in.IDs != nil }

// chars is the input's size in characters, for the compute-characters statistic.
func (in Input) chars() int {
	return utf8.RuneCountInString(in.Text) + utf8.RuneCountInString(in.Second)
}

// key is the input as a comparable cache-key part.
func (in Input) key() inputKey {
	k := inputKey{text: in.Text, second: in.Second, pair: in.Pair}
	if in.isIDs() {
		k.ids = idsKey(in.IDs)
	}
	return k
}

// inputKey identifies an input in the result cache.
type inputKey struct {
	text, second string
	pair         bool
	ids          string // the ids' bytes, or "" for a text or pair
}

func (k inputKey) size() int { return len(k.text) + len(k.second) + len(k.ids) + 1 }

// idsKey packs ids into a string (4 bytes each) so that id inputs can key the cache; the
// "#" prefix keeps an empty id list apart from no ids.
func idsKey(ids []int32) string {
	b := make([]byte, 1, 1+4*len(ids))
	b[0] = '#'
	for _, id := range ids {
		b = append(b, byte(id), byte(id>>8), byte(id>>16), byte(id>>24))
	}
	return string(b)
}

// Truncation says what happens to an input longer than the token limit (specials included).
// The zero value cuts it at the right end, and cuts a pair longest side first, as Hugging
// Face's tokenizer(a, b, truncation=True) does.
type Truncation struct {
	// Refuse answers ErrInputTooLong instead of cutting.
	Refuse bool
	// Side is the end that is cut (tokenizer.SideDefault: the tokenizer's own, normally right).
	Side tokenizer.Side
	// Strategy picks which text of a pair gives up tokens (longest_first, only_first,
	// only_second); single texts and ids ignore it.
	Strategy tokenizer.TruncationStrategy
}

// validTruncation checks the enums a front end may have passed through unchecked.
func validTruncation(t Truncation) error {
	if t.Side > tokenizer.SideLeft {
		return errorf(ErrInvalidInput, "truncation direction %d: want right or left", t.Side)
	}
	if _, err := t.Strategy.MarshalText(); err != nil {
		return errorf(ErrInvalidInput, "truncation strategy: %v", err)
	}
	return nil
}

// hasPairs reports whether any input is a sentence pair.
func hasPairs(inputs []Input) bool {
	return slices.ContainsFunc(inputs, func(in Input) bool { return in.Pair })
}
