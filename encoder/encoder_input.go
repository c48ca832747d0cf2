package encoder

import "fmt"

// InputError says why Forward refused a batch (a client mistake, not a server fault).
type InputError struct {
	// Seq is the index of the offending sequence, or -1 for the batch as a whole.
	Seq    int
	Reason string
}

func (e *InputError) Error() string {
	if e.Seq < 0 {
		return "invalid input: " + e.Reason
	}
	return fmt.Sprintf("invalid input: sequence %d: %s", e.Seq, e.Reason)
}

// checkInput validates a batch before any work: non-empty, every sequence non-empty and
// within MaxInputTokens, every id inside the vocabulary.
func (e *Encoder) checkInput(ids [][]int32) error {
	if len(ids) == 0 {
		return &InputError{Seq: -1, Reason: "empty batch"}
	}
	limit, vocab := e.cfg.MaxInputTokens(), int32(e.cfg.VocabSize)
	for i, s := range ids {
		switch {
		case len(s) == 0:
			return &InputError{Seq: i, Reason: "no tokens"}
		case len(s) > limit:
			return &InputError{Seq: i, Reason: fmt.Sprintf("%d tokens, more than the model's %d", len(s), limit)}
		}
		for j, id := range s {
			if id < 0 || id >= vocab {
				return &InputError{Seq: i, Reason: fmt.Sprintf("token %d: id %d outside the vocabulary of %d", j, id, vocab)}
			}
		}
	}
	return nil
}
