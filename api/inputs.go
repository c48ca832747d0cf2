// Package api holds the JSON request and response types of coldserve's HTTP API. They carry swag
// annotations (struct tags and comments) from which the OpenAPI spec in docs/ is generated.
package api

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Inputs is "a string or a list of strings": `"text"` and `["a", "b"]` are both accepted, a
// single string meaning a list of one. JSON null (or an absent field) yields no inputs.
type Inputs []string

// UnmarshalJSON accepts a JSON string or an array of strings.
func (in *Inputs) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*in = nil
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*in = Inputs{s}
		return nil
	case len(b) > 0 && b[0] == '[':
		var list []string
		if err := json.Unmarshal(b, &list); err != nil {
			return fmt.Errorf("inputs must be a string or a list of strings: %w", err)
		}
		*in = list
		return nil
	default:
		return fmt.Errorf("inputs must be a string or a list of strings, got %.20s", b)
	}
}

// IDBatch is "a list of token ids or a list of such lists": `[0, 713, 2]` is one sequence,
// `[[0, 2], [0, 713, 2]]` two.
type IDBatch [][]int32

// UnmarshalJSON accepts an array of integers or an array of integer arrays.
func (ids *IDBatch) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*ids = nil
		return nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("ids must be a list of integers or a list of lists: %w", err)
	}
	if len(raw) == 0 {
		*ids = IDBatch{}
		return nil
	}
	if first := bytes.TrimSpace(raw[0]); len(first) > 0 && first[0] == '[' {
		var nested [][]int32
		if err := json.Unmarshal(b, &nested); err != nil {
			return fmt.Errorf("ids must be a list of integers or a list of lists: %w", err)
		}
		*ids = nested
		return nil
	}
	var flat []int32
	if err := json.Unmarshal(b, &flat); err != nil {
		return fmt.Errorf("ids must be a list of integers or a list of lists: %w", err)
	}
	*ids = IDBatch{flat}
	return nil
}
