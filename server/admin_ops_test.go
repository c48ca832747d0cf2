package server

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/coldserve/coldserve/api"
	"github.com/coldserve/coldserve/inference"
	"github.com/coldserve/coldserve/weights"
)

func TestAdminAuth(t *testing.T) {
	root := checkpointRoot(t)
	open := newServer(t, Options{}, inference.ModelConfig{Dir: filepath.Join(root, "tiny")}).Handler()
	guarded := newAdminServer(t, root, 1).Handler()
	tests := []struct {
		name string
		h    http.Handler
		auth string
		code int
		err  string
	}{
		{"no token configured", open, "Bearer anything", 403, CodeAdminDisabled},
		{"no token configured, no header", open, "", 403, CodeAdminDisabled},
		{"missing header", guarded, "", 401, CodeUnauthorized},
		{"wrong token", guarded, "Bearer " + adminToken + "x", 401, CodeUnauthorized},
		{"token prefix", guarded, "Bearer " + adminToken[:4], 401, CodeUnauthorized},
		{"wrong scheme", guarded, "Basic " + adminToken, 401, CodeUnauthorized},
		{"right token", guarded, "Bearer " + adminToken, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []struct{ method, path string }{
				{http.MethodGet, "/admin/checkpoint"}, {http.MethodPost, "/admin/rollback"},
				{http.MethodPost, "/admin/checkpoint"}, {http.MethodDelete, "/admin/heads/x"},
			} {
				code, raw := doAuth(t, tc.h, r.method, r.path, nil, tc.auth)
				if tc.code == 200 {
					if code == 401 || code == 403 {
						t.Fatalf("%s %s: %d %s", r.method, r.path, code, raw)
					}
					continue
				}
				var e errorResp
				_ = json.Unmarshal(raw, &e)
				if code != tc.code || e.Error.Code != tc.err {
					t.Fatalf("%s %s: got %d %s, want %d %s", r.method, r.path, code, raw, tc.code, tc.err)
				}
			}
		})
	}
}

func swapTo(t *testing.T, h http.Handler, path string, body any) api.CheckpointResponse {
	t.Helper()
	code, raw := adminDo(t, h, http.MethodPost, path, body)
	if code != http.StatusOK {
		t.Fatalf("%s %v: %d %s", path, body, code, raw)
	}
	var resp api.CheckpointResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		t.Fatal(err)
	}
	return resp
}

func servedID(t *testing.T, h http.Handler) string {
	t.Helper()
	var r embedResp
	call(t, h, "/v1/embed", map[string]any{"inputs": "hello"}, http.StatusOK, &r)
	return r.Checkpoint
}

func TestRollback(t *testing.T) {
	root := checkpointRoot(t)
	copyDir(t, filepath.Join(root, "fused"), filepath.Join(root, "fused2"))
	h := newAdminServer(t, root, 1).Handler()
	tiny := servedID(t, h)

	code, raw := adminDo(t, h, http.MethodPost, "/admin/rollback", nil)
	if code != http.StatusConflict {
		t.Fatalf("rollback with no previous checkpoint: %d %s", code, raw)
	}
	fused := swapTo(t, h, "/admin/checkpoint", map[string]any{"source": "fused"}).Checkpoint.ID
	back := swapTo(t, h, "/admin/rollback", nil)
	if back.Checkpoint.ID != tiny || back.Previous.ID != fused || servedID(t, h) != tiny {
		t.Fatalf("rollback answered %+v; serving %s, want %s", back, servedID(t, h), tiny)
	}
	if again := swapTo(t, h, "/admin/rollback", nil); again.Checkpoint.ID != fused || servedID(t, h) != fused {
		t.Fatalf("second rollback: %+v", again)
	}
	// Swap to fused2 (same weights as fused) and replace its files: rollback to it must refuse.
	swapTo(t, h, "/admin/checkpoint", map[string]any{"source": "fused2"})
	swapTo(t, h, "/admin/checkpoint", map[string]any{"source": "tiny"})
	copyDir(t, filepath.Join(root, "sentiment"), filepath.Join(root, "fused2"))
	code, raw = adminDo(t, h, http.MethodPost, "/admin/rollback", nil)
	var e errorResp
	_ = json.Unmarshal(raw, &e)
	if code != http.StatusConflict || e.Error.Code != CodeSourceChanged || servedID(t, h) != tiny {
		t.Fatalf("rollback to changed files: %d %s", code, raw)
	}
	var st api.CheckpointStatus
	code, raw = adminDo(t, h, http.MethodGet, "/admin/checkpoint", nil)
	if code != 200 || json.Unmarshal(raw, &st) != nil {
		t.Fatalf("status: %d %s", code, raw)
	}
	var actions []string
	for _, e := range st.History {
		actions = append(actions, e.Action)
	}
	if got := len(actions); got != 6 || actions[0] != "load" || actions[2] != "rollback" || actions[3] != "rollback" {
		t.Fatalf("history actions %v", actions)
	}
}

func TestAdminHeads(t *testing.T) {
	root := checkpointRoot(t)
	headOnly, err := weights.LoadHead(t.Context(), sentimentDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := weights.SaveDir(filepath.Join(root, "sentiment-head"), headOnly); err != nil {
		t.Fatal(err)
	}
	h := newAdminServer(t, root, 1).Handler()
	tiny := servedID(t, h)
	var sg sentimentGolden
	readGolden(t, "tiny_sentiment.json", &sg)
	sentimentID := swapTo(t, h, "/admin/checkpoint", map[string]any{"source": "sentiment", "dry_run": true}).Checkpoint.ID

	add := func(name, source string) api.HeadResponse {
		t.Helper()
		code, raw := adminDo(t, h, http.MethodPost, "/admin/heads", map[string]any{"name": name, "source": source})
		if code != http.StatusOK {
			t.Fatalf("add %s: %d %s", name, code, raw)
		}
		var r api.HeadResponse
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	full := add("full", "sentiment")
	if !full.OwnEncoder || full.Checkpoint != sentimentID || len(full.Labels) != 3 {
		t.Fatalf("full head: %+v", full)
	}
	part := add("part", "sentiment-head")
	if part.OwnEncoder || part.Checkpoint != tiny || len(part.Heads) != 2 {
		t.Fatalf("head-only head: %+v", part)
	}
	// The full head computes tiny_sentiment.json's logits on its own encoder.
	it := sg.Items[0]
	var cr classifyResp
	call(t, h, "/v1/classify", map[string]any{"inputs": it.Text, "head": "full", "raw_scores": true}, 200, &cr)
	if cr.Checkpoint != sentimentID {
		t.Fatalf("full head ran on %s", cr.Checkpoint)
	}
	for _, ls := range cr.Results[0] {
		idx := -1
		for k, v := range sg.ID2Label {
			if v == ls.Label {
				idx = int(k[0] - '0')
			}
		}
		if idx < 0 || abs64(float64(ls.Score)-it.Logits[idx]) > 1e-5 {
			t.Fatalf("label %s: %v vs golden %v", ls.Label, ls.Score, it.Logits)
		}
	}
	call(t, h, "/v1/classify", map[string]any{"inputs": it.Text, "head": "part"}, 200, &cr)
	if cr.Checkpoint != tiny {
		t.Fatalf("head-only head ran on %s, want the served encoder %s", cr.Checkpoint, tiny)
	}
	code, raw := adminDo(t, h, http.MethodPost, "/admin/heads", map[string]any{"name": "full", "source": "sentiment"})
	if code != http.StatusConflict {
		t.Fatalf("duplicate head: %d %s", code, raw)
	}
	code, raw = adminDo(t, h, http.MethodPost, "/admin/heads", map[string]any{"name": "x", "source": "../x"})
	if code != http.StatusForbidden {
		t.Fatalf("head traversal: %d %s", code, raw)
	}
	code, raw = adminDo(t, h, http.MethodPost, "/admin/heads", map[string]any{"name": "x", "source": "tiny"})
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("encoder without head: %d %s", code, raw)
	}
	for _, name := range []string{"full", "part"} {
		if code, raw := adminDo(t, h, http.MethodDelete, "/admin/heads/"+name, nil); code != 200 {
			t.Fatalf("delete %s: %d %s", name, code, raw)
		}
		if code, raw := do(t, h, http.MethodPost, "/v1/classify", map[string]any{"inputs": "x", "head": name}); code != 404 {
			t.Fatalf("classify with removed head %s: %d %s", name, code, raw)
		}
	}
	if code, _ := adminDo(t, h, http.MethodDelete, "/admin/heads/full", nil); code != 404 {
		t.Fatalf("delete twice: %d", code)
	}
}

func abs64(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// /admin/fuse of seeds 0, 1, 2 writes a directory that loads back to tiny_fused.json's vectors
// and has what transformers' from_pretrained reads; activate swaps it in.
func TestAdminFuse(t *testing.T) {
	root := checkpointRoot(t)
	cfg, err := weights.LoadConfig(filepath.Join(tinyDir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	for seed := uint64(0); seed < 3; seed++ {
		dir := filepath.Join(root, "seed"+string(rune('0'+seed)))
		if err := weights.WriteGenerated(dir, cfg, seed, weights.GenerateOptions{}); err != nil {
			t.Fatal(err)
		}
		if seed == 0 {
			for _, f := range weights.TokenizerFiles {
				if b, err := os.ReadFile(filepath.Join(tinyDir, f)); err == nil {
					_ = os.WriteFile(filepath.Join(dir, f), b, 0o644)
				}
			}
		}
	}
	h := newAdminServer(t, root, 1).Handler()
	tiny := servedID(t, h)
	code, raw := adminDo(t, h, http.MethodPost, "/admin/fuse", map[string]any{
		"sources": []string{"seed0", "seed1", "seed2"}, "output": "itr1", "activate": true})
	if code != http.StatusOK {
		t.Fatalf("fuse: %d %s", code, raw)
	}
	var fr api.FuseResponse
	if err := json.Unmarshal(raw, &fr); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, "itr1")
	if real, _ := filepath.EvalSymlinks(out); fr.Output != real || fr.Activation == nil || !fr.Activation.Swapped ||
		fr.Activation.Previous.ID != tiny || servedID(t, h) != fr.Checkpoint.ID {
		t.Fatalf("fuse answered %s", raw)
	}
	var conf map[string]any
	b, err := os.ReadFile(filepath.Join(out, "config.json"))
	if err != nil || json.Unmarshal(b, &conf) != nil {
		t.Fatalf("config.json: %v", err)
	}
	if conf["model_type"] != "roberta" || conf["architectures"].([]any)[0] != "RobertaModel" {
		t.Fatalf("config.json: model_type %v, architectures %v", conf["model_type"], conf["architectures"])
	}
	for _, f := range []string{"model.safetensors", "vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("fused directory lacks %s: %v", f, err)
		}
	}
	var fg fusedGolden
	readGolden(t, "tiny_fused.json", &fg)
	ids := make([][]int32, len(fg.Items))
	for i, it := range fg.Items {
		ids[i] = it.IDs
	}
	for i, v := range forwardMean(t, out, ids) {
		if d := maxAbs(v, fg.Items[i].Mean); d > 1e-5 {
			t.Errorf("fused output item %d: max diff %g", i, d)
		}
	}
	var em embedResp
	call(t, h, "/v1/embed", map[string]any{"inputs": fg.Items[4].Text}, 200, &em)
	if d := maxAbs(em.Embeddings[0], fg.Items[4].Mean); d > 1e-5 {
		t.Fatalf("activated fuse serves vectors %g away from tiny_fused.json", d)
	}
	// Refusals: existing output, output outside the root, mismatched weights, no sources.
	for _, tc := range []struct {
		body map[string]any
		code int
	}{
		{map[string]any{"sources": []string{"seed0", "seed1"}, "output": "itr1"}, 409},
		{map[string]any{"sources": []string{"seed0", "seed1"}, "output": "../evil"}, 403},
		{map[string]any{"sources": []string{"seed0", "seed1"}, "weights": []float64{1}, "output": "x"}, 400},
		{map[string]any{"sources": []string{}, "output": "x"}, 400},
		{map[string]any{"sources": []string{"seed0", "../../etc"}, "output": "y"}, 403},
	} {
		if code, raw := adminDo(t, h, http.MethodPost, "/admin/fuse", tc.body); code != tc.code {
			t.Errorf("%v: %d %s, want %d", tc.body, code, raw, tc.code)
		}
	}
	// Rollback after an activated fuse returns to tiny.
	if back := swapTo(t, h, "/admin/rollback", nil); back.Checkpoint.ID != tiny {
		t.Fatalf("rollback after fuse: %+v", back)
	}
}
