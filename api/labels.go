package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Labels are zero-shot candidate labels: a list of strings, or one string of comma-separated
// labels, which Hugging Face's zero-shot-classification pipeline splits on commas and trims.
type Labels []string

// UnmarshalJSON accepts a string or a list of strings; a null element is an error.
func (l *Labels) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case isNull(b):
		*l = nil
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		var out Labels
		for _, part := range strings.Split(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
		*l = out
		return nil
	}
	list, err := stringList(b, "candidate_labels")
	if err != nil {
		return fmt.Errorf("candidate_labels must be a string of comma-separated labels or a list of strings: %w", err)
	}
	*l = list
	return nil
}
