// Package api holds the JSON request and response types of coldserve's HTTP API. They carry swag
// annotations (struct tags and comments) from which the OpenAPI spec in docs/ is generated.
package api

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Inputs is "a string or a list of strings": `"text"` and `["a", "b"]` are both accepted, a
// single string meaning a list of one. JSON null (or an absent field) yields no inputs; a null
// inside the list is an error, not an empty text.
type Inputs []string

// UnmarshalJSON accepts a JSON string or an array of strings.
func (in *Inputs) UnmarshalJSON(b []byte) error {
	list, _, err := stringOrList(b, "inputs")
	*in = list
	return err
}

// stringOrList decodes a JSON string (single true) or a list of strings; null yields nil, and
// a null inside the list is an error naming where[i].
func stringOrList(b []byte, where string) (list []string, single bool, err error) {
	b = bytes.TrimSpace(b)
	switch {
	case isNull(b):
		return nil, false, nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, false, err
		}
		return []string{s}, true, nil
	case len(b) > 0 && b[0] == '[':
		list, err := stringList(b, where)
		return list, false, err
	}
	return nil, false, fmt.Errorf("%s must be a string or a list of strings, got %.20s", where, b)
}

// IDBatch is "a list of token ids or a list of such lists": `[0, 713, 2]` is one sequence,
// `[[0, 2], [0, 713, 2]]` two. A null where an id or a list belongs is an error (encoding/json
// would read it as 0 or as an empty list).
type IDBatch [][]int32

// UnmarshalJSON accepts an array of integers or an array of integer arrays.
func (ids *IDBatch) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if isNull(b) {
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
		out := make(IDBatch, len(raw))
		for i, r := range raw {
			if isNull(r) {
				return fmt.Errorf("ids[%d] is null: want a list of integers", i)
			}
			list, err := idList(r, fmt.Sprintf("ids[%d]", i))
			if err != nil {
				return err
			}
			out[i] = list
		}
		*ids = out
		return nil
	}
	flat, err := idList(b, "ids")
	if err != nil {
		return err
	}
	*ids = IDBatch{flat}
	return nil
}

// idList decodes one JSON array of int32 ids, refusing null elements; where names it in errors.
func idList(b []byte, where string) ([]int32, error) {
	var list []*int32
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("ids must be a list of integers or a list of lists: %w", err)
	}
	out := make([]int32, len(list))
	for i, id := range list {
		if id == nil {
			return nil, fmt.Errorf("%s[%d] is null: want an integer", where, i)
		}
		out[i] = *id
	}
	return out, nil
}

func isNull(b []byte) bool { return bytes.Equal(bytes.TrimSpace(b), []byte("null")) }
