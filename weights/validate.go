package weights

import (
	"fmt"
	"math"
	"slices"
)

// Validate checks everything the encoder relies on before a single value is used:
// the config is runnable, every encoder tensor TensorSpecs lists is present with the shape the
// config implies, the optional groups (pooler, classification head) are complete or absent,
// and every value is finite. Load calls it; call it yourself on checkpoints built in memory.
//
// A missing pooler is not an error (HasPooler reports it and "pooler" pooling is refused later);
// half a pooler or half a head is.
func (c *Checkpoint) Validate() error {
	if c == nil {
		return fmt.Errorf("validate: nil checkpoint")
	}
	if err := c.Config.Validate(); err != nil {
		return fmt.Errorf("validate %s: %w", c.Source, err)
	}
	for _, spec := range TensorSpecs(c.Config, false, 0) {
		if err := c.checkTensor(spec.Key, spec.Shape); err != nil {
			return err
		}
	}
	if err := c.checkGroup(poolerSpecs(c.Config)); err != nil {
		return err
	}
	if c.anyPresent(headKeys) {
		return c.ValidateHead()
	}
	return nil
}

// ValidateHead checks the classification head alone (config, the four classifier tensors,
// shapes, finiteness). It is what a head-only checkpoint from LoadHead must satisfy.
// The label count is the out_proj row count; when config.json lists id2label, the two must agree.
func (c *Checkpoint) ValidateHead() error {
	if c == nil {
		return fmt.Errorf("validate head: nil checkpoint")
	}
	if err := c.Config.Validate(); err != nil {
		return fmt.Errorf("validate head %s: %w", c.Source, err)
	}
	for _, k := range headKeys {
		if c.Tensors[k] == nil {
			return &MissingTensorError{Tensor: k, Source: c.Source, Reason: "the classification head needs classifier.dense.* and classifier.out_proj.*"}
		}
	}
	h := c.Config.HiddenSize
	out := c.Tensors["classifier.out_proj.weight"]
	if len(out.Shape) != 2 || out.Shape[0] < 1 {
		return &ShapeError{Tensor: "classifier.out_proj.weight", Source: c.Source, Got: out.Shape, Want: []int{max(c.Config.NumLabels(), 1), h}, Reason: "want [num_labels, hidden_size]"}
	}
	n := out.Shape[0]
	if want := c.Config.NumLabels(); want > 0 && n != want {
		return &ShapeError{Tensor: "classifier.out_proj.weight", Source: c.Source, Got: out.Shape, Want: []int{want, h}, Reason: fmt.Sprintf("config id2label has %d labels", want)}
	}
	shapes := map[string][]int{
		"classifier.dense.weight":    {h, h},
		"classifier.dense.bias":      {h},
		"classifier.out_proj.weight": {n, h},
		"classifier.out_proj.bias":   {n},
	}
	for _, k := range headKeys {
		if err := c.checkTensor(k, shapes[k]); err != nil {
			return err
		}
	}
	return nil
}

// HasPooler reports whether the checkpoint carries HF's pooler (pooler.dense.*), which
// "pooler" pooling needs. RobertaForSequenceClassification checkpoints have none.
func (c *Checkpoint) HasPooler() bool {
	return c.Tensors["pooler.dense.weight"] != nil && c.Tensors["pooler.dense.bias"] != nil
}

// HasHead reports whether the checkpoint carries a complete classification head
// (classifier.dense.* and classifier.out_proj.*).
func (c *Checkpoint) HasHead() bool { return c.allPresent(headKeys) }

// hasEncoder reports whether any encoder tensor is present (false for a head-only checkpoint).
func (c *Checkpoint) hasEncoder() bool {
	for _, s := range TensorSpecs(c.Config, false, 0) {
		if c.Tensors[s.Key] != nil {
			return true
		}
	}
	return false
}

func (c *Checkpoint) anyPresent(keys []string) bool {
	return slices.ContainsFunc(keys, func(k string) bool { return c.Tensors[k] != nil })
}

func (c *Checkpoint) allPresent(keys []string) bool {
	return !slices.ContainsFunc(keys, func(k string) bool { return c.Tensors[k] == nil })
}

// poolerSpecs lists pooler.dense.* for cfg's geometry.
func poolerSpecs(cfg Config) []TensorSpec {
	h := cfg.HiddenSize
	return []TensorSpec{{"pooler.dense.weight", []int{h, h}}, {"pooler.dense.bias", []int{h}}}
}

// checkGroup validates an optional group of tensors: all present and well-formed, or none.
func (c *Checkpoint) checkGroup(specs []TensorSpec) error {
	var present, missing string
	for _, s := range specs {
		if c.Tensors[s.Key] != nil {
			present = s.Key
		} else if missing == "" {
			missing = s.Key
		}
	}
	if present == "" {
		return nil
	}
	if missing != "" {
		return &MissingTensorError{Tensor: missing, Source: c.Source, Reason: present + " is present"}
	}
	for _, s := range specs {
		if err := c.checkTensor(s.Key, s.Shape); err != nil {
			return err
		}
	}
	return nil
}

// checkTensor checks one tensor's presence, shape, data length and finiteness.
func (c *Checkpoint) checkTensor(key string, want []int) error {
	t := c.Tensors[key]
	if t == nil {
		return &MissingTensorError{Tensor: key, Source: c.Source}
	}
	if !slices.Equal(t.Shape, want) {
		return &ShapeError{Tensor: key, Source: c.Source, Got: t.Shape, Want: want, Reason: "implied by the config"}
	}
	if len(t.Data) != t.NumElements() {
		return &ShapeError{Tensor: key, Source: c.Source, Got: t.Shape, Want: want, Reason: fmt.Sprintf("holds %d values for %d elements", len(t.Data), t.NumElements())}
	}
	for i, v := range t.Data {
		// NaN and ±Inf are exactly the values whose exponent bits are all ones.
		if math.Float32bits(v)&0x7f800000 == 0x7f800000 {
			return &NonFiniteError{Tensor: key, Source: c.Source, Index: i, Value: v}
		}
	}
	return nil
}
