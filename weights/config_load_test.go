package weights

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const tinyDir = "../testdata/models/tiny-roberta"

func TestLoadConfigTiny(t *testing.T) {
	cfg, err := LoadConfig(filepath.Join(tinyDir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := RobertaBaseConfig()
	want.HiddenSize, want.NumHiddenLayers, want.NumAttentionHeads, want.IntermediateSize = 32, 2, 4, 64
	want.Architectures = []string{"RobertaModel"}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("tiny config = %+v\nwant %+v", cfg, want)
	}
}

func TestLoadConfigLabels(t *testing.T) {
	cfg, err := LoadConfig("../testdata/models/tiny-roberta-sentiment/config.json")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.NumLabels(), 3; got != want {
		t.Errorf("NumLabels = %d, want %d", got, want)
	}
	if got, want := cfg.Labels(4), []string{"negative", "neutral", "positive", "LABEL_3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Labels(4) = %v, want %v", got, want)
	}
	var none Config
	if got, want := none.Labels(2), []string{"LABEL_0", "LABEL_1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("fallback Labels(2) = %v, want %v", got, want)
	}
}

// TestLoadConfigDefaults checks that absent fields take transformers' RobertaConfig defaults.
func TestLoadConfigDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(`{"model_type":"roberta"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxPositionEmbeddings != 512 || cfg.TypeVocabSize != 2 || cfg.LayerNormEps != 1e-12 || cfg.HiddenSize != 768 {
		t.Errorf("defaults not applied: %+v", cfg)
	}
}

// TestRobertaBaseConfigMatchesGolden compares RobertaBaseConfig with the config HF used for base.json.
func TestRobertaBaseConfigMatchesGolden(t *testing.T) {
	raw, err := os.ReadFile("../testdata/golden/base.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Config json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var golden Config
	if err := json.Unmarshal(doc.Config, &golden); err != nil {
		t.Fatal(err)
	}
	// base.json's config is a RobertaModel's default-labelled config; labels are not geometry.
	golden.ID2Label, golden.Label2ID = nil, nil
	if got := RobertaBaseConfig(); !reflect.DeepEqual(got, golden) {
		t.Errorf("RobertaBaseConfig() = %+v\nbase.json config = %+v", got, golden)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tiny, err := os.ReadFile(filepath.Join(tinyDir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	// edit returns tiny's config.json with the given fields replaced.
	edit := func(fields map[string]any) string {
		var m map[string]any
		if err := json.Unmarshal(tiny, &m); err != nil {
			t.Fatal(err)
		}
		for k, v := range fields {
			m[k] = v
		}
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	cases := []struct {
		name, body, field string
	}{
		{"other model type", edit(map[string]any{"model_type": "bert"}), "model_type"},
		{"tanh gelu", edit(map[string]any{"hidden_act": "gelu_new"}), "hidden_act"},
		{"relu", edit(map[string]any{"hidden_act": "relu"}), "hidden_act"},
		{"heads do not divide hidden", edit(map[string]any{"num_attention_heads": 5}), "hidden_size"},
		{"zero heads", edit(map[string]any{"num_attention_heads": 0}), "num_attention_heads"},
		{"negative layers", edit(map[string]any{"num_hidden_layers": -1}), "num_hidden_layers"},
		{"zero hidden", edit(map[string]any{"hidden_size": 0}), "hidden_size"},
		{"zero vocab", edit(map[string]any{"vocab_size": 0}), "vocab_size"},
		{"zero ffn", edit(map[string]any{"intermediate_size": 0}), "intermediate_size"},
		{"zero type vocab", edit(map[string]any{"type_vocab_size": 0}), "type_vocab_size"},
		{"zero eps", edit(map[string]any{"layer_norm_eps": 0}), "layer_norm_eps"},
		{"pad outside vocab", edit(map[string]any{"pad_token_id": 50265}), "pad_token_id"},
		{"positions eaten by pad offset", edit(map[string]any{"max_position_embeddings": 2}), "max_position_embeddings"},
		{"bad problem type", edit(map[string]any{"problem_type": "ranking"}), "problem_type"},
		{"id2label gap", edit(map[string]any{"id2label": map[string]string{"0": "a", "2": "b"}}), "id2label"},
		{"id2label not int", edit(map[string]any{"id2label": map[string]string{"x": "a"}}), "id2label"},
		{"json garbage", "{not json", ""},
		{"wrong json type", edit(map[string]any{"hidden_size": "big"}), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.json")
			if err := os.WriteFile(path, []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadConfig(path)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *ConfigError", err)
			}
			if ce.Field != tc.field {
				t.Errorf("Field = %q, want %q (%v)", ce.Field, tc.field, err)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("message %q does not name %s and %q", err, path, tc.field)
			}
		})
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	_, err := LoadConfig(path)
	var ce *ConfigError
	if !errors.As(err, &ce) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want *ConfigError wrapping fs.ErrNotExist", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("message %q does not name %s", err, path)
	}
}
