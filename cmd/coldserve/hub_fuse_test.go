package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coldserve/coldserve/hub/hubtest"
	"github.com/coldserve/coldserve/weights"
)

// startServe runs `coldserve serve args...` until the test ends and returns its base URL once
// /readyz answers 200.
func startServe(t *testing.T, args []string) string {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), env(nil), logs, func(a string) { addrc <- a })
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v\n%s", err, logs)
		}
	})
	var base string
	select {
	case a := <-addrc:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("serve exited: %v\n%s", err, logs)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		r, err := http.Get(base + "/readyz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready after 60s\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tinyMean(t *testing.T, i int) (string, []float64) {
	t.Helper()
	var g struct {
		Items []struct {
			Text string    `json:"text"`
			Mean []float64 `json:"mean"`
		} `json:"items"`
	}
	raw, err := os.ReadFile("../../testdata/golden/tiny.json")
	if err != nil || json.Unmarshal(raw, &g) != nil {
		t.Fatal(err)
	}
	return g.Items[i].Text, g.Items[i].Mean
}

func post(t *testing.T, url, auth string, body any) (int, []byte) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, b
}

// --model OWNER/NAME downloads through the Hub client (a local fake Hub here) into HF_HOME's
// cache and serves it; the admin API then swaps to a Hub id with --allow-hub.
func TestServeFromHub(t *testing.T) {
	fake := hubtest.New(t)
	fake.AddDir(t, "org/tiny", "main", "../../testdata/models/tiny-roberta")
	fake.AddDir(t, "org/sentiment", "main", "../../testdata/models/tiny-roberta-sentiment")
	home := t.TempDir()
	t.Setenv("HF_ENDPOINT", fake.URL)
	t.Setenv("HF_HOME", home)
	t.Setenv("HF_HUB_CACHE", "")
	t.Setenv("HF_TOKEN", "")
	t.Setenv("HF_HUB_OFFLINE", "")
	t.Setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
	base := startServe(t, []string{"--model", "org/tiny", "--revision", "main", "--admin-token", "tok", "--allow-hub"})
	if _, err := os.Stat(filepath.Join(home, "hub", "models--org--tiny", "refs", "main")); err != nil {
		t.Fatalf("not downloaded into the shared cache: %v", err)
	}
	text, mean := tinyMean(t, 5)
	code, raw := post(t, base+"/v1/embed", "", map[string]any{"inputs": text})
	var er struct {
		Model      string      `json:"model"`
		Embeddings [][]float64 `json:"embeddings"`
	}
	if code != 200 || json.Unmarshal(raw, &er) != nil {
		t.Fatalf("embed: %d %s", code, raw)
	}
	for j := range mean {
		if d := er.Embeddings[0][j] - mean[j]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("hub model's vector differs from tiny.json at %d by %g", j, d)
		}
	}
	if er.Model != "tiny" {
		t.Errorf("model name %q", er.Model)
	}
	code, raw = post(t, base+"/admin/checkpoint", "tok", map[string]any{"source": "org/sentiment", "revision": "main"})
	if code != 200 || !strings.Contains(string(raw), `"swapped":true`) || !strings.Contains(string(raw), `"revision":"main"`) {
		t.Fatalf("admin swap to a hub id: %d %s", code, raw)
	}
	code, raw = post(t, base+"/admin/checkpoint", "tok", map[string]any{"source": "org/missing"})
	if code != 404 {
		t.Fatalf("admin swap to a missing hub repo: %d %s", code, raw)
	}
}

func TestFuseCommand(t *testing.T) {
	dir := t.TempDir()
	cfg, err := weights.LoadConfig("../../testdata/models/tiny-roberta/config.json")
	if err != nil {
		t.Fatal(err)
	}
	var srcs []string
	for seed := uint64(0); seed < 3; seed++ {
		d := filepath.Join(dir, "seed"+string(rune('0'+seed)))
		if err := weights.WriteGenerated(d, cfg, seed, weights.GenerateOptions{}); err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, d)
	}
	srcs[0] = "../../testdata/models/tiny-roberta" // seed 0 with tokenizer files
	out := filepath.Join(dir, "fused")
	var logs bytes.Buffer
	if err := run(context.Background(), append([]string{"fuse", "--out", out, "--weights", "1,1,1"}, srcs...), env(nil), &logs, nil); err != nil {
		t.Fatalf("fuse: %v\n%s", err, logs.String())
	}
	ck, err := weights.Load(t.Context(), out)
	if err != nil {
		t.Fatal(err)
	}
	cks := []*weights.Checkpoint{}
	for seed := uint64(0); seed < 3; seed++ {
		cks = append(cks, weights.Generate(cfg, seed, weights.GenerateOptions{}))
	}
	want, err := weights.Fuse(cks, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ck.ID() != want.ID() || !strings.Contains(logs.String(), ck.ID()) {
		t.Fatalf("fused %s, want %s; log %s", ck.ID(), want.ID(), logs.String())
	}
	if _, err := os.Stat(filepath.Join(out, "vocab.json")); err != nil {
		t.Fatal("tokenizer files not copied")
	}
	for _, args := range [][]string{{"fuse", srcs[0]}, {"fuse", "--out", out + "2"}, {"fuse", "--out", out + "3", "--weights", "1", srcs[0], srcs[1]}} {
		if err := run(context.Background(), args, env(nil), io.Discard, nil); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

func TestParseAdminFlags(t *testing.T) {
	root := t.TempDir()
	c, err := parseServe([]string{"--model", "demo", "--allow-hub"}, env(map[string]string{
		"COLDSERVE_ADMIN_TOKEN": "tok", "COLDSERVE_CHECKPOINT_ROOT": root + "," + root, "COLDSERVE_REVISION": "v1"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.adminToken != "tok" || len(c.checkpointRoot) != 2 || !c.allowHub || c.revision != "v1" {
		t.Fatalf("parsed %+v", c)
	}
	if _, err := parseServe([]string{"--model", "demo", "--checkpoint-root", filepath.Join(root, "absent")}, env(nil), io.Discard); err == nil {
		t.Fatal("a missing --checkpoint-root was accepted")
	}
}
