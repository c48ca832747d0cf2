package server

import (
	"encoding/binary"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/coldserve/coldserve/api"
	"github.com/coldserve/coldserve/weights"
)

// badCheckpoints adds broken variants of tiny to root and returns nothing; each is named after
// its fault.
func badCheckpoints(t *testing.T, root string) {
	t.Helper()
	tiny := filepath.Join(root, "tiny")
	// truncated: the weights file ends in the middle of the data.
	copyDir(t, tiny, filepath.Join(root, "truncated"))
	st := filepath.Join(root, "truncated", "model.safetensors")
	fi, err := os.Stat(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(st, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	// nan: the first float of the data section is a NaN.
	copyDir(t, tiny, filepath.Join(root, "nan"))
	raw, err := os.ReadFile(filepath.Join(root, "nan", "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	data := 8 + int(binary.LittleEndian.Uint64(raw))
	binary.LittleEndian.PutUint32(raw[data:], 0x7fc00000)
	if err := os.WriteFile(filepath.Join(root, "nan", "model.safetensors"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	// shapes: config.json claims a wider feed-forward layer than the weights have.
	copyDir(t, tiny, filepath.Join(root, "shapes"))
	editConfig(t, filepath.Join(root, "shapes"), func(c map[string]any) { c["intermediate_size"] = c["intermediate_size"].(float64) * 2 })
	// noweights: config and tokenizer only.
	copyDir(t, tiny, filepath.Join(root, "noweights"))
	if err := os.Remove(filepath.Join(root, "noweights", "model.safetensors")); err != nil {
		t.Fatal(err)
	}
	// noconfig: weights without config.json.
	copyDir(t, tiny, filepath.Join(root, "noconfig"))
	if err := os.Remove(filepath.Join(root, "noconfig", "config.json")); err != nil {
		t.Fatal(err)
	}
	// deeper: a valid checkpoint with one more layer (a geometry change).
	cfg, err := weights.LoadConfig(filepath.Join(tinyDir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.NumHiddenLayers++
	if err := weights.WriteGenerated(filepath.Join(root, "deeper"), cfg, 5, weights.GenerateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range weights.TokenizerFiles {
		if b, err := os.ReadFile(filepath.Join(tinyDir, f)); err == nil {
			if err := os.WriteFile(filepath.Join(root, "deeper", f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// escape: a symlink inside the root to a checkpoint outside it.
	abs, err := filepath.Abs(tinyDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(abs, filepath.Join(root, "escape")); err != nil {
		t.Fatal(err)
	}
}

func editConfig(t *testing.T, dir string, edit func(map[string]any)) {
	t.Helper()
	path := filepath.Join(dir, "config.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	edit(c)
	if raw, err = json.Marshal(c); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Every bad checkpoint is refused with its status and code, and the served weights keep
// answering with tiny.json's vectors after each refusal.
func TestSwapRejectsBadCheckpoints(t *testing.T) {
	root := checkpointRoot(t)
	badCheckpoints(t, root)
	srv := newAdminServer(t, root, 1)
	h := srv.Handler()
	var tg tinyGolden
	readGolden(t, "tiny.json", &tg)
	it := tg.Items[3]
	var before embedResp
	call(t, h, "/v1/embed", map[string]any{"inputs": it.Text}, http.StatusOK, &before)

	fused, err := weights.Load(t.Context(), filepath.Join(root, "fused"))
	if err != nil {
		t.Fatal(err)
	}
	digest := fused.Digest()
	outside := t.TempDir()
	copyDir(t, tinyDir, outside)

	tests := []struct {
		name string
		body map[string]any
		code int
		err  string
	}{
		{"truncated weights", map[string]any{"source": "truncated"}, 422, CodeInvalidCheckpoint},
		{"NaN weight", map[string]any{"source": "nan"}, 422, CodeInvalidCheckpoint},
		{"wrong shapes", map[string]any{"source": "shapes"}, 422, CodeInvalidCheckpoint},
		{"missing weights file", map[string]any{"source": "noweights"}, 422, CodeInvalidCheckpoint},
		{"missing config.json", map[string]any{"source": "noconfig"}, 422, CodeInvalidCheckpoint},
		{"no such directory", map[string]any{"source": "nowhere"}, 404, CodeSourceNotFound},
		{"dot-dot traversal", map[string]any{"source": "../../../etc"}, 403, CodeForbiddenSource},
		{"dot-dot to an existing checkpoint", map[string]any{"source": "tiny/../../" + filepath.Base(outside)}, 403, CodeForbiddenSource},
		{"absolute path outside the roots", map[string]any{"source": outside}, 403, CodeForbiddenSource},
		{"symlink out of the root", map[string]any{"source": "escape"}, 403, CodeForbiddenSource},
		{"hub id without --allow-hub", map[string]any{"source": "ibm/ColD-Fusion"}, 403, CodeForbiddenSource},
		{"wrong sha256 (full digest)", map[string]any{"source": "fused", "sha256": "0" + digest[1:]}, 422, CodeDigestMismatch},
		{"wrong sha256 (id)", map[string]any{"source": "fused", "sha256": before.Checkpoint}, 422, CodeDigestMismatch},
		{"malformed sha256", map[string]any{"source": "fused", "sha256": "abc"}, 400, CodeInvalidArgument},
		{"geometry change without the flag", map[string]any{"source": "deeper"}, 422, CodeGeometryChange},
		{"empty source", map[string]any{"source": ""}, 400, CodeInvalidArgument},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, raw := adminDo(t, h, http.MethodPost, "/admin/checkpoint", tc.body)
			var e errorResp
			_ = json.Unmarshal(raw, &e)
			if code != tc.code || e.Error.Code != tc.err {
				t.Fatalf("got %d %s, want %d %s: %s", code, e.Error.Code, tc.code, tc.err, raw)
			}
			var after embedResp
			call(t, h, "/v1/embed", map[string]any{"inputs": it.Text}, http.StatusOK, &after)
			if after.Checkpoint != before.Checkpoint {
				t.Fatalf("serving %s after a refused swap, want %s", after.Checkpoint, before.Checkpoint)
			}
			if d := maxAbs(after.Embeddings[0], it.Mean); d > 1e-5 {
				t.Fatalf("vectors moved after a refused swap: %g", d)
			}
		})
	}

	// The same sources pass when the check is satisfied: sha256 as id, as a digest prefix, and
	// the geometry change when allowed (dry runs, so tiny stays served).
	for _, body := range []map[string]any{
		{"source": "fused", "sha256": fused.ID(), "dry_run": true},
		{"source": "fused", "sha256": digest[:20], "dry_run": true},
		{"source": filepath.Join(root, "fused"), "sha256": "SHA256:" + digest, "dry_run": true},
		{"source": "deeper", "allow_geometry_change": true, "dry_run": true},
	} {
		var resp api.CheckpointResponse
		code, raw := adminDo(t, h, http.MethodPost, "/admin/checkpoint", body)
		if code != http.StatusOK {
			t.Fatalf("%v: %d %s", body, code, raw)
		}
		if err := json.Unmarshal(raw, &resp); err != nil {
			t.Fatal(err)
		}
		if resp.Swapped || !resp.DryRun || resp.Previous.ID != before.Checkpoint {
			t.Fatalf("%v: dry run answered %+v", body, resp)
		}
	}
	var after embedResp
	call(t, h, "/v1/embed", map[string]any{"inputs": it.Text}, http.StatusOK, &after)
	if after.Checkpoint != before.Checkpoint {
		t.Fatalf("a dry run swapped: serving %s", after.Checkpoint)
	}
}
