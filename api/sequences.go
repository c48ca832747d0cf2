package api

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Sequence is one input of the TEI and OpenAI embedding routes: a text, or token ids already
// in the model's vocabulary (IDs non-nil, Text empty).
type Sequence struct {
	Text string
	IDs  []int32
}

// IsIDs reports whether the input was given as token ids.
func (s Sequence) IsIDs() bool { return s.IDs != nil }

// Sequences is "a string, a list of strings, a list of token ids, or a list of such lists", the
// inputs of TEI's /embed and OpenAI's /v1/embeddings: `"a"`, `["a", "b"]`, `[0, 713, 2]` (one
// sequence of ids) and `[[0, 2], "b"]` (TEI lets a batch mix texts and id lists). A JSON null
// or an absent field yields no inputs; a null inside the list is an error.
type Sequences []Sequence

// UnmarshalJSON accepts the four shapes above.
func (s *Sequences) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if isNull(b) {
		*s = nil
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var text string
		if err := json.Unmarshal(b, &text); err != nil {
			return err
		}
		*s = Sequences{{Text: text}}
		return nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("input must be a string, a list of strings, a list of token ids or a list of such lists: %w", err)
	}
	if len(raw) == 0 {
		*s = Sequences{}
		return nil
	}
	if first := bytes.TrimSpace(raw[0]); len(first) > 0 && (first[0] == '-' || first[0] >= '0' && first[0] <= '9') {
		ids, err := idList(b, "input")
		if err != nil {
			return err
		}
		*s = Sequences{{IDs: ids}}
		return nil
	}
	out := make(Sequences, len(raw))
	for i, r := range raw {
		r = bytes.TrimSpace(r)
		switch {
		case isNull(r):
			return fmt.Errorf("input[%d] is null: want a string or a list of token ids", i)
		case len(r) > 0 && r[0] == '"':
			if err := json.Unmarshal(r, &out[i].Text); err != nil {
				return err
			}
		case len(r) > 0 && r[0] == '[':
			ids, err := idList(r, fmt.Sprintf("input[%d]", i))
			if err != nil {
				return err
			}
			out[i].IDs = ids
		default:
			return fmt.Errorf("input[%d] must be a string or a list of token ids, got %.20s", i, r)
		}
	}
	*s = out
	return nil
}
