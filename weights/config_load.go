package weights

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
)

// defaultConfig holds transformers' RobertaConfig defaults. HF fills any field a config.json
// leaves out from these, so LoadConfig decodes on top of them to read the same model HF would.
func defaultConfig() Config {
	return Config{
		ModelType:             "roberta",
		VocabSize:             50265,
		HiddenSize:            768,
		NumHiddenLayers:       12,
		NumAttentionHeads:     12,
		IntermediateSize:      3072,
		HiddenAct:             "gelu",
		MaxPositionEmbeddings: 512,
		TypeVocabSize:         2,
		LayerNormEps:          1e-12,
		PadTokenID:            1,
		BosTokenID:            0,
		EosTokenID:            2,
	}
}

// RobertaBaseConfig is the exact geometry of roberta-base (and of ibm/ColD-Fusion, which
// shares it): 12 layers of width 768 with 12 heads, FFN 3072, 514 positions (512 tokens after
// RoBERTa's pad offset), one token type, LayerNorm eps 1e-5, exact-erf GELU. It differs from
// RobertaConfig's defaults only in those last three numbers.
func RobertaBaseConfig() Config {
	c := defaultConfig()
	c.MaxPositionEmbeddings = 514
	c.TypeVocabSize = 1
	c.LayerNormEps = 1e-5
	return c
}

// supportedActivations lists the hidden_act values the encoder implements. HF's "gelu" is the
// exact erf form 0.5·x·(1+erf(x/√2)); tanh approximations ("gelu_new", "gelu_fast") differ by
// up to ~1e-3 and would break parity, so they are refused rather than silently approximated.
var supportedActivations = map[string]bool{"gelu": true}

// supportedProblemTypes are HF's problem_type values for a sequence-classification head.
var supportedProblemTypes = map[string]bool{
	"":                            true,
	"single_label_classification": true,
	"multi_label_classification":  true,
	"regression":                  true,
}

// LoadConfig reads a Hugging Face config.json, fills absent fields with RobertaConfig's
// defaults (as transformers does) and validates it. Every failure is a *ConfigError; a missing
// file also satisfies errors.Is(err, fs.ErrNotExist).
func LoadConfig(path string) (Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, &ConfigError{Path: path, Reason: "cannot read config", Err: err}
	}
	cfg := defaultConfig()
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return Config{}, &ConfigError{Path: path, Reason: "not a valid config.json", Err: err}
	}
	if err := cfg.Validate(); err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			ce.Path = path
		}
		return Config{}, err
	}
	return cfg, nil
}

// Validate checks that the config describes a RoBERTa encoder this package can run.
// It returns a *ConfigError naming the first offending field.
func (c Config) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &ConfigError{Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	if c.ModelType != "roberta" {
		return bad("model_type", "%q is not supported (only \"roberta\")", c.ModelType)
	}
	if !supportedActivations[c.HiddenAct] {
		return bad("hidden_act", "activation %q is not supported (only exact-erf \"gelu\")", c.HiddenAct)
	}
	positive := []struct {
		field string
		v     int
	}{
		{"vocab_size", c.VocabSize},
		{"hidden_size", c.HiddenSize},
		{"num_hidden_layers", c.NumHiddenLayers},
		{"num_attention_heads", c.NumAttentionHeads},
		{"intermediate_size", c.IntermediateSize},
		{"max_position_embeddings", c.MaxPositionEmbeddings},
		{"type_vocab_size", c.TypeVocabSize},
	}
	for _, p := range positive {
		if p.v <= 0 {
			return bad(p.field, "must be positive, got %d", p.v)
		}
	}
	if c.HiddenSize%c.NumAttentionHeads != 0 {
		return bad("hidden_size", "%d is not divisible by num_attention_heads %d", c.HiddenSize, c.NumAttentionHeads)
	}
	if !(c.LayerNormEps > 0) || math.IsInf(c.LayerNormEps, 0) {
		return bad("layer_norm_eps", "must be a positive finite number, got %v", c.LayerNormEps)
	}
	if c.PadTokenID < 0 || c.PadTokenID >= c.VocabSize {
		return bad("pad_token_id", "%d is outside the vocabulary [0, %d)", c.PadTokenID, c.VocabSize)
	}
	if c.MaxInputTokens() < 1 {
		return bad("max_position_embeddings", "%d leaves no room for tokens after the pad offset %d", c.MaxPositionEmbeddings, c.PadTokenID+1)
	}
	for _, id := range []struct {
		field string
		v     int
	}{{"bos_token_id", c.BosTokenID}, {"eos_token_id", c.EosTokenID}} {
		if id.v < 0 || id.v >= c.VocabSize {
			return bad(id.field, "%d is outside the vocabulary [0, %d)", id.v, c.VocabSize)
		}
	}
	if !supportedProblemTypes[c.ProblemType] {
		return bad("problem_type", "%q is not a sequence-classification problem type", c.ProblemType)
	}
	if _, err := c.labelsFromID2Label(); err != nil {
		return err
	}
	return nil
}

// NumLabels is the number of labels config.json declares through id2label (0 if none).
// HF derives num_labels the same way.
func (c Config) NumLabels() int { return len(c.ID2Label) }

// Labels returns n label names in index order: id2label[i] where present, else "LABEL_i"
// (HF's default name). Pass the classifier's output width as n.
func (c Config) Labels(n int) []string {
	names, err := c.labelsFromID2Label()
	out := make([]string, n)
	for i := range out {
		if err == nil && i < len(names) && names[i] != "" {
			out[i] = names[i]
		} else {
			out[i] = "LABEL_" + strconv.Itoa(i)
		}
	}
	return out
}

// labelsFromID2Label turns id2label's string keys into an index-ordered slice; the keys must
// be exactly 0..n-1.
func (c Config) labelsFromID2Label() ([]string, error) {
	names := make([]string, len(c.ID2Label))
	for k, v := range c.ID2Label {
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 || i >= len(names) {
			return nil, &ConfigError{Field: "id2label", Reason: fmt.Sprintf("key %q is not an index in [0, %d)", k, len(names))}
		}
		names[i] = v
	}
	return names, nil
}
