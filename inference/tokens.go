package inference

import "context"

// Tokenize returns each input's tokens (texts and pairs) with the served tokenizer, without
// truncation; specials adds the template's special tokens (<s> and </s>).
func (c *Core) Tokenize(inputs []Input, specials bool) ([][]Token, error) {
	m, err := c.ready()
	if err != nil {
		return nil, err
	}
	if err := c.checkInputs(len(inputs), "inputs"); err != nil {
		return nil, err
	}
	encs, err := m.main.tok.encode(context.Background(), inputs, 0, Truncation{}, specials)
	if err != nil {
		return nil, err
	}
	out := make([][]Token, len(encs))
	for i, enc := range encs {
		out[i] = enc.tokens
	}
	return out, nil
}

// Decode turns id sequences back into text; an id outside the vocabulary is ErrInvalidInput.
func (c *Core) Decode(ids [][]int32, skipSpecial bool) ([]string, error) {
	m, err := c.ready()
	if err != nil {
		return nil, err
	}
	if err := c.checkInputs(len(ids), "ids"); err != nil {
		return nil, err
	}
	texts := make([]string, len(ids))
	for i, seq := range ids {
		text, err := m.main.tok.decode(seq, skipSpecial)
		if err != nil {
			return nil, errorf(ErrInvalidInput, "ids[%d]: %v", i, err)
		}
		texts[i] = text
	}
	return texts, nil
}
