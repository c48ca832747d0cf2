package weights

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// storedNames lists the tensor names a safetensors file holds, sorted.
func storedNames(t *testing.T, path string) []string {
	t.Helper()
	st, err := openSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var names []string
	for _, r := range st.tensors {
		names = append(names, r.Name)
	}
	sort.Strings(names)
	return names
}

func TestSaveDirRoundTrip(t *testing.T) {
	cases := []struct {
		name     string
		load     func() (*Checkpoint, error)
		reload   func(context.Context, string) (*Checkpoint, error)
		arch     string
		prefixed bool
	}{
		{"RobertaModel", func() (*Checkpoint, error) { return Load(t.Context(), tinyDir) }, Load, "RobertaModel", false},
		{"bf16 sharded to F32", func() (*Checkpoint, error) { return Load(t.Context(), tinyBF16Dir) }, Load, "RobertaModel", false},
		{"sequence classification", func() (*Checkpoint, error) { return Load(t.Context(), tinySentimentDir) }, Load, "RobertaForSequenceClassification", true},
		{"head only", func() (*Checkpoint, error) { return LoadHead(t.Context(), tinySentimentDir) }, LoadHead, "RobertaForSequenceClassification", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ck, err := tc.load()
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "out")
			if err := SaveDir(dir, ck); err != nil {
				t.Fatal(err)
			}
			back, err := tc.reload(t.Context(), dir)
			if err != nil {
				t.Fatal(err)
			}
			sameTensors(t, back.Tensors, ck.Tensors, nil)
			if back.ID() != ck.ID() {
				t.Errorf("ID after round trip %s, want %s", back.ID(), ck.ID())
			}
			if !slices.Equal(back.Config.Architectures, []string{tc.arch}) {
				t.Errorf("architectures = %v, want [%s]", back.Config.Architectures, tc.arch)
			}
			want := ck.Config
			want.Architectures = back.Config.Architectures
			if back.Config.HiddenSize != want.HiddenSize || back.Config.LayerNormEps != want.LayerNormEps ||
				!slices.Equal(back.Config.Labels(3), want.Labels(3)) || back.Config.VocabSize != want.VocabSize {
				t.Errorf("config changed: %+v, want %+v", back.Config, want)
			}
			// Keys as save_pretrained writes them.
			for _, name := range storedNames(t, filepath.Join(dir, "model.safetensors")) {
				isHead := strings.HasPrefix(name, "classifier.")
				if !isHead && strings.HasPrefix(name, "roberta.") != tc.prefixed {
					t.Errorf("stored name %q: want roberta. prefix = %v", name, tc.prefixed)
				}
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var files []string
			for _, e := range entries {
				files = append(files, e.Name())
			}
			if !slices.Equal(files, []string{"config.json", "model.safetensors"}) {
				t.Errorf("dir holds %v, want only config.json and model.safetensors (no temp files)", files)
			}
		})
	}
}

// TestSaveDirAddsLabels: a head without id2label gets HF's default names for its real width,
// so transformers reads the right num_labels.
func TestSaveDirAddsLabels(t *testing.T) {
	ck := Generate(tinyConfig(t), 4, GenerateOptions{Prefix: "roberta.", NoPooler: true, NumLabels: 5})
	dir := t.TempDir()
	if err := SaveDir(dir, ck); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NumLabels() != 5 || cfg.Labels(5)[4] != "LABEL_4" || cfg.Label2ID["LABEL_2"] != 2 {
		t.Errorf("saved labels id2label=%v label2id=%v, want LABEL_0..LABEL_4", cfg.ID2Label, cfg.Label2ID)
	}
}

func TestWriteWeightgenDir(t *testing.T) {
	cfg := tinyConfig(t)
	dir := t.TempDir()
	if err := WriteGenerated(dir, cfg, 11, GenerateOptions{}); err != nil {
		t.Fatal(err)
	}
	ck, err := Load(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	sameTensors(t, ck.Tensors, Generate(cfg, 11, GenerateOptions{}).Tensors, nil)
}

func TestSaveDirRejectsInvalid(t *testing.T) {
	ck := Generate(tinyConfig(t), 0, GenerateOptions{})
	delete(ck.Tensors, "embeddings.LayerNorm.weight")
	dir := filepath.Join(t.TempDir(), "out")
	err := SaveDir(dir, ck)
	if !isType[*MissingTensorError](err) {
		t.Fatalf("SaveDir of an incomplete checkpoint = %v, want *MissingTensorError", err)
	}
	if _, statErr := os.Stat(dir); !os.IsNotExist(statErr) {
		t.Errorf("SaveDir created %s despite the error", dir)
	}
}
