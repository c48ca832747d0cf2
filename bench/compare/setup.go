package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"time"

	"github.com/coldserve/coldserve/weights"
)

// repoRoot is the nearest directory at or above the working directory holding go.mod, or "".
func repoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// defaultCacheDir is the repository's gitignored tmp/, else the user cache directory.
func defaultCacheDir(root string) string {
	if root != "" {
		return filepath.Join(root, "tmp", "bench-compare")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "coldserve", "bench-compare")
	}
	return filepath.Join(os.TempDir(), "coldserve-bench-compare")
}

// ensureCheckpoint makes dir hold ck (whose Digest is digest) as an HF-layout directory
// (config.json + model.safetensors). A directory already there is reused when it loads to the
// same tensors (same digest) and geometry; otherwise it is rewritten. SaveDir writes the weights before config.json, so an
// interrupted write is seen as absent, not as a complete checkpoint.
func ensureCheckpoint(ctx context.Context, dir string, ck *weights.Checkpoint, digest string) (reused bool, err error) {
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err == nil {
		got, err := weights.Load(ctx, dir)
		if err == nil && got.Digest() == digest && sameGeometry(got.Config, ck.Config) {
			return true, nil
		}
		slog.Info("cached checkpoint is stale or unreadable; rewriting it", "dir", dir, "load_err", err)
	}
	if err := weights.SaveDir(dir, ck); err != nil {
		return false, fmt.Errorf("write checkpoint: %w", err)
	}
	return false, nil
}

// sameGeometry compares configs, ignoring what SaveDir fills in (model type, architectures).
func sameGeometry(a, b weights.Config) bool {
	a.ModelType, a.Architectures, b.ModelType, b.Architectures = "", nil, "", nil
	return reflect.DeepEqual(a, b)
}

// pythonTorch finds an interpreter that imports torch and numpy (what torch_peer.py needs):
// the given one, else Debian's /usr/bin/python3 (the peers' setup installs torch there),
// else python3 on PATH. It returns the interpreter and torch's version, or why there is none.
func pythonTorch(ctx context.Context, given string) (python, version string, err error) {
	cands := []string{given}
	if given == "" {
		cands = []string{"/usr/bin/python3", "python3"}
	}
	var whys []string
	for _, py := range cands {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		out, err := exec.CommandContext(ctx, py, "-c", "import numpy, torch; print(torch.__version__)").CombinedOutput()
		cancel()
		if err == nil {
			return py, strings.TrimSpace(string(out)), nil
		}
		whys = append(whys, fmt.Sprintf("%s cannot import torch and numpy (%v%s)", py, err, lastLine(out)))
	}
	return "", "", errors.New(strings.Join(whys, "; "))
}

// lastLine is ": " and the last line of out, for short error messages ("" if out is empty).
func lastLine(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if last := strings.TrimSpace(lines[len(lines)-1]); last != "" {
		return ": " + last
	}
	return ""
}

// exportONNX exports ckDir to onnxPath through torch_peer.py export, then stamps it
// (onnxPath + ".digest") with digest, the checkpoint it came from, so the export is reused only
// for the same weights (stampMatches).
func exportONNX(ctx context.Context, python, peersDir, ckDir, onnxPath, digest string) error {
	tmp := fmt.Sprintf("%s.tmp-%d", onnxPath, os.Getpid())
	defer os.Remove(tmp)
	slog.Info("exporting the checkpoint to ONNX (once; cached)", "to", onnxPath)
	cmd := exec.CommandContext(ctx, python, filepath.Join(peersDir, "torch_peer.py"), "--model", ckDir,
		"export", "--onnx", tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("torch_peer.py export: %w%s", err, lastLine(out))
	}
	if err := os.Rename(tmp, onnxPath); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := os.WriteFile(onnxPath+".digest", []byte(digest+"\n"), 0o644); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

// stampMatches reports whether onnxPath exists and was exported from the checkpoint digest.
func stampMatches(onnxPath, digest string) bool {
	raw, err := os.ReadFile(onnxPath + ".digest")
	return err == nil && strings.TrimSpace(string(raw)) == digest && fileExists(onnxPath)
}

// ortLibrary finds libonnxruntime: the given path, else the one the npm package
// onnxruntime-node ships under $ORT_DIR (default /tmp/peers/ort, as for ort_peer.mjs), else the
// usual system locations. It returns the path or what it searched.
func ortLibrary(given string) (string, error) {
	if given != "" {
		if _, err := os.Stat(given); err != nil {
			return "", fmt.Errorf("ONNX Runtime library: %w", err)
		}
		return given, nil
	}
	ortDir := os.Getenv("ORT_DIR")
	if ortDir == "" {
		ortDir = "/tmp/peers/ort"
	}
	arch := map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH]
	patterns := []string{
		filepath.Join(ortDir, "node_modules/onnxruntime-node/bin/napi-v*", runtime.GOOS, arch, "libonnxruntime.so*"),
		"/usr/lib/*-linux-gnu/libonnxruntime.so*",
		"/usr/local/lib/libonnxruntime.so*",
		"/usr/lib/libonnxruntime.so*",
	}
	for _, p := range patterns {
		if m, _ := filepath.Glob(p); len(m) > 0 {
			return m[len(m)-1], nil
		}
	}
	return "", fmt.Errorf("no libonnxruntime.so found (searched %s); set ORT_LIB or -ort-lib, or install it: %s",
		strings.Join(patterns, ", "), "npm install --ignore-scripts onnxruntime-node@1.30.0 in $ORT_DIR")
}

// fileExists reports whether p is an existing regular file.
func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
