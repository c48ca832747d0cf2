package weights

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// TokenizerFiles are the tokenizer files a Hugging Face checkpoint directory may carry;
// WriteFused copies those present in the first source.
var TokenizerFiles = []string{"tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"}

// FuseDirs loads every source directory and fuses their encoders with Fuse (mix nil:
// equal). It returns the fused checkpoint.
func FuseDirs(ctx context.Context, dirs []string, mix []float64) (*Checkpoint, error) {
	if len(dirs) == 0 {
		return nil, errors.New("fuse: no sources")
	}
	cks := make([]*Checkpoint, len(dirs))
	for i, d := range dirs {
		ck, err := Load(ctx, d)
		if err != nil {
			return nil, fmt.Errorf("fuse: source %d: %w", i, err)
		}
		cks[i] = ck
	}
	return Fuse(cks, mix)
}

// WriteFused writes ck as a Hugging Face directory out (config.json with model_type and
// architectures, model.safetensors; see SaveDir) and copies the tokenizer files of
// tokenizerDir into it, so transformers.AutoModel.from_pretrained(out) and
// AutoTokenizer.from_pretrained(out) both work, and so does coldserve --model out.
func WriteFused(out string, ck *Checkpoint, tokenizerDir string) error {
	if err := SaveDir(out, ck); err != nil {
		return err
	}
	for _, name := range TokenizerFiles {
		src := filepath.Join(tokenizerDir, name)
		if _, err := os.Stat(src); errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err := copyFile(src, filepath.Join(out, name)); err != nil {
			return fmt.Errorf("write fused %s: %w", out, err)
		}
	}
	return nil
}

// copyFile copies through a temporary file renamed into place, like SaveDir's writes.
func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = io.Copy(tmp, in); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}
