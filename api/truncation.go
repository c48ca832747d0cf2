package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Direction is which end of an over-long input is cut: "right" (the default: keep the
// beginning) or "left" (keep the end). Any case is accepted, as TEI reads it.
type Direction string

const (
	Right Direction = "right"
	Left  Direction = "left"
)

// UnmarshalJSON accepts "right" and "left" in any case.
func (d *Direction) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("truncation_direction must be a string: %w", err)
	}
	switch Direction(strings.ToLower(s)) {
	case Right:
		*d = Right
	case Left:
		*d = Left
	default:
		return fmt.Errorf("truncation_direction %.40q: want right or left", s)
	}
	return nil
}

// HeadNames names classification heads: a list of names, one name, or "*" for every head.
type HeadNames []string

// UnmarshalJSON accepts a string or a list of strings; a null element is an error.
func (h *HeadNames) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case isNull(b):
		*h = nil
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*h = HeadNames{s}
		return nil
	}
	list, err := stringList(b, "heads")
	if err != nil {
		return fmt.Errorf("heads must be a head name, \"*\" or a list of names: %w", err)
	}
	*h = list
	return nil
}
