package weights

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// Checkpoint directory layout, as Hugging Face writes it. Load reads the first weights file
// present, in HF's own order of preference.
const (
	configFile      = "config.json"
	safetensorsName = "model.safetensors"
	shardIndexFile  = "model.safetensors.index.json"
	pytorchBinFile  = "pytorch_model.bin"
)

// Load reads a Hugging Face RoBERTa checkpoint directory: config.json plus the weights from
// model.safetensors, else a sharded model.safetensors.index.json, else pytorch_model.bin.
// F32, F16, BF16 and F64 weights become float32. Keys are canonicalised (see canonicalKey):
// "roberta." is stripped, lm_head.* and buffers are skipped and listed by IgnoredKeys.
// The result is validated (Validate) before it is returned, so a nil error means the encoder
// can use every tensor; failures are the package's typed errors, wrapped with the directory.
// Cancelling ctx stops the read between tensors (a full roberta-base is 500 MB).
func Load(ctx context.Context, dir string) (*Checkpoint, error) {
	ck, err := loadDir(ctx, dir, false)
	if err != nil {
		return nil, err
	}
	if err := ck.Validate(); err != nil {
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	return ck, nil
}

// LoadHead reads only the classification head (classifier.dense.*, classifier.out_proj.*)
// and config of a checkpoint directory, so the head can be attached to a different encoder:
// a finetuned head trained on one ColD-Fusion iteration served on another. The directory may
// hold a full RobertaForSequenceClassification checkpoint (its encoder tensors are skipped
// without being read) or a head-only checkpoint whose weights file holds just the four
// classifier tensors. The result passes ValidateHead; HasHead is true and the encoder is absent,
// so it cannot be passed to NewEncoder.
func LoadHead(ctx context.Context, dir string) (*Checkpoint, error) {
	ck, err := loadDir(ctx, dir, true)
	if err != nil {
		return nil, err
	}
	if err := ck.ValidateHead(); err != nil {
		return nil, fmt.Errorf("load head %s: %w", dir, err)
	}
	return ck, nil
}

// loadDir reads config and weights; headOnly keeps only the classifier tensors.
func loadDir(ctx context.Context, dir string, headOnly bool) (*Checkpoint, error) {
	cfg, err := LoadConfig(filepath.Join(dir, configFile))
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	raws, closeFiles, err := openWeights(dir)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	defer closeFiles()

	known := knownKeys(cfg)
	tensors := map[string]*Tensor{}
	storedAs := map[string]string{}
	var ignored []string
	for _, raw := range raws {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("load %s: %w", dir, context.Cause(ctx))
		}
		key, ok := canonicalKey(raw.Name, known)
		if !ok {
			ignored = append(ignored, raw.Name)
			continue
		}
		if headOnly && !slices.Contains(headKeys, key) {
			continue
		}
		if prev, dup := storedAs[key]; dup {
			return nil, fmt.Errorf("load %s: %w", dir, &HeaderError{File: raw.File, Tensor: raw.Name, Reason: "same tensor as " + prev})
		}
		storedAs[key] = raw.Name
		if !floatDType(raw.DType) {
			return nil, fmt.Errorf("load %s: %w", dir, &UnsupportedDTypeError{File: raw.File, Tensor: raw.Name, DType: raw.DType})
		}
		// Check shapes the config fixes before allocating, so a mismatched file costs nothing.
		if want, isKnown := known[key]; isKnown && !slices.Equal(raw.Shape, want) {
			return nil, fmt.Errorf("load %s: %w", dir, &ShapeError{Tensor: key, Source: raw.File, Got: raw.Shape, Want: want, Reason: "implied by " + configFile})
		}
		t := &Tensor{Shape: raw.Shape, Data: make([]float32, numElements(raw.Shape))}
		if err := raw.read(t.Data); err != nil {
			return nil, fmt.Errorf("load %s: %w", dir, err)
		}
		tensors[key] = t
	}
	return newCheckpoint(cfg, tensors, dir, ignored), nil
}

// openWeights opens the preferred weights file of dir and lists its tensors.
func openWeights(dir string) ([]rawTensor, func() error, error) {
	candidates := []struct {
		name string
		open func(string) ([]rawTensor, func() error, error)
	}{
		{safetensorsName, func(p string) ([]rawTensor, func() error, error) {
			st, err := openSafetensors(p)
			if err != nil {
				return nil, nil, err
			}
			return st.tensors, st.Close, nil
		}},
		{shardIndexFile, openSafetensorsIndex},
		{pytorchBinFile, openPytorchBin},
	}
	for _, c := range candidates {
		p := filepath.Join(dir, c.name)
		_, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("stat %s: %w", p, err)
		}
		return c.open(p)
	}
	return nil, nil, &NoWeightsError{Dir: dir}
}
