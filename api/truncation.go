package api

import (
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
	list, _, err := stringOrList(b, "heads")
	*h = list
	return err
}
