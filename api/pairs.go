package api

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// TextInput is one classification input: a text, or a sentence pair (Pair true: A is the
// premise or query, B the hypothesis or passage), encoded <s> A </s></s> B </s>.
type TextInput struct {
	A, B string
	Pair bool
}

// PairInputs is "a string, or a list whose elements are strings or two-string lists": the
// inputs of /v1/classify and /v1/tokenize. `"a"` is one text, `["a", "b"]` two texts, and
// `[["premise", "hypothesis"], "text"]` one pair and one text. (TEI's /predict reads a bare
// two-string list as one pair instead; see package api/tei.) A null anywhere is an error.
type PairInputs []TextInput

// UnmarshalJSON accepts the shapes above.
func (in *PairInputs) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if isNull(b) {
		*in = nil
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*in = PairInputs{{A: s}}
		return nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("inputs must be a string or a list of strings and [text, text] pairs: %w", err)
	}
	out := make(PairInputs, len(raw))
	for i, r := range raw {
		item, err := textInput(r, fmt.Sprintf("inputs[%d]", i))
		if err != nil {
			return err
		}
		out[i] = item
	}
	*in = out
	return nil
}

// textInput decodes one element: a string, or a list of exactly two strings.
func textInput(r json.RawMessage, where string) (TextInput, error) {
	r = bytes.TrimSpace(r)
	switch {
	case len(r) > 0 && r[0] == '"':
		var s string
		err := json.Unmarshal(r, &s)
		return TextInput{A: s}, err
	case len(r) > 0 && r[0] == '[':
		pair, err := stringList(r, where)
		if err != nil {
			return TextInput{}, err
		}
		if len(pair) != 2 {
			return TextInput{}, fmt.Errorf("%s has %d strings: a pair is [text, text]", where, len(pair))
		}
		return TextInput{A: pair[0], B: pair[1], Pair: true}, nil
	case isNull(r):
		return TextInput{}, fmt.Errorf("%s is null: want a string or a [text, text] pair", where)
	}
	return TextInput{}, fmt.Errorf("%s must be a string or a [text, text] pair, got %.20s", where, r)
}

// stringList decodes a JSON array of strings, refusing null elements.
func stringList(b []byte, where string) ([]string, error) {
	var list []*string
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("%s must be a list of strings: %w", where, err)
	}
	out := make([]string, len(list))
	for i, s := range list {
		if s == nil {
			return nil, fmt.Errorf("%s[%d] is null: want a string", where, i)
		}
		out[i] = *s
	}
	return out, nil
}
