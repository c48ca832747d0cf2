package api

import "strings"

// Labels are zero-shot candidate labels: a list of strings, or one string of comma-separated
// labels, which Hugging Face's zero-shot-classification pipeline splits on commas and trims.
type Labels []string

// UnmarshalJSON accepts a string or a list of strings; a null element is an error.
func (l *Labels) UnmarshalJSON(b []byte) error {
	list, single, err := stringOrList(b, "candidate_labels")
	if err != nil || !single {
		*l = list
		return err
	}
	var out Labels
	for _, part := range strings.Split(list[0], ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	*l = out
	return nil
}
