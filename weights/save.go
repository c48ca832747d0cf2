package weights

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// SaveDir writes ck as a Hugging Face checkpoint directory that both Load and transformers'
// from_pretrained read: config.json and an F32 model.safetensors. Keys are the ones
// save_pretrained writes: canonical for a RobertaModel (no head), "roberta."-prefixed encoder
// keys plus classifier.* for a RobertaForSequenceClassification (a checkpoint with a head). A
// head-only checkpoint (from LoadHead) is written as classifier.* alone. The checkpoint is
// validated first. Each file is written to a temporary name in dir and renamed into place, so
// a reader never sees a half-written file. dir is created if needed.
func SaveDir(dir string, ck *Checkpoint) error {
	if ck == nil {
		return fmt.Errorf("save %s: nil checkpoint", dir)
	}
	encoder, head := ck.hasEncoder(), ck.HasHead()
	switch {
	case encoder:
		if err := ck.Validate(); err != nil {
			return fmt.Errorf("save %s: %w", dir, err)
		}
	case head:
		if err := ck.ValidateHead(); err != nil {
			return fmt.Errorf("save %s: %w", dir, err)
		}
	default:
		return fmt.Errorf("save %s: checkpoint %s has neither encoder nor head tensors", dir, ck.Source)
	}

	cfg := ck.Config
	cfg.ModelType = "roberta"
	prefix := ""
	cfg.Architectures = []string{"RobertaModel"}
	if head {
		prefix = "roberta."
		cfg.Architectures = []string{"RobertaForSequenceClassification"}
		if n := ck.Tensors["classifier.out_proj.weight"].Shape[0]; len(cfg.ID2Label) == 0 {
			// HF derives num_labels from id2label; without it, it would assume 2.
			cfg.ID2Label, cfg.Label2ID = map[string]string{}, map[string]int{}
			for i, name := range cfg.Labels(n) {
				cfg.ID2Label[strconv.Itoa(i)] = name
				cfg.Label2ID[name] = i
			}
		}
	}
	stored := make(map[string]*Tensor, len(ck.Tensors))
	for k, t := range ck.Tensors {
		if t == nil {
			continue
		}
		name := k
		if _, isHead := headKeySet[k]; !isHead {
			name = prefix + k
		}
		stored[name] = t
	}
	cfgJSON, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("save %s: encode config: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save %s: %w", dir, err)
	}
	// Weights first: a directory with a new config.json always has the matching weights.
	if err := writeFileAtomic(filepath.Join(dir, safetensorsName), func(w io.Writer) error {
		return writeSafetensors(w, stored)
	}); err != nil {
		return fmt.Errorf("save %s: %w", dir, err)
	}
	if err := writeFileAtomic(filepath.Join(dir, configFile), func(w io.Writer) error {
		_, err := w.Write(append(cfgJSON, '\n'))
		return err
	}); err != nil {
		return fmt.Errorf("save %s: %w", dir, err)
	}
	return nil
}

var headKeySet = func() map[string]struct{} {
	m := map[string]struct{}{}
	for _, k := range headKeys {
		m[k] = struct{}{}
	}
	return m
}()

// writeFileAtomic writes path through a temporary file in the same directory, synced and
// renamed into place, so path holds either its old content or the complete new content.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
