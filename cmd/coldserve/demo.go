package main

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// demoFiles is a tiny RoBERTa checkpoint (hidden 32, 2 layers, the real roberta-base vocabulary)
// whose weights are random (weightgen seed 0, the project's tiny-roberta test checkpoint). It
// lets `coldserve serve --model demo` run on a machine with no model downloaded.
//
//go:embed demo/config.json demo/model.safetensors demo/vocab.json demo/merges.txt demo/tokenizer_config.json
var demoFiles embed.FS

// demoModel is the --model value that selects the embedded checkpoint.
const demoModel = "demo"

// extractDemo writes the embedded checkpoint to a new temporary directory and returns it with a
// function that removes it.
func extractDemo() (dir string, cleanup func(), err error) {
	dir, err = os.MkdirTemp("", "coldserve-demo-*")
	if err != nil {
		return "", nil, fmt.Errorf("demo model: %w", err)
	}
	cleanup = func() { os.RemoveAll(dir) }
	err = fs.WalkDir(demoFiles, "demo", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := demoFiles.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, d.Name()), data, 0o644)
	})
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("demo model: extract: %w", err)
	}
	return dir, cleanup, nil
}
