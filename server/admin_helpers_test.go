package server

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/coldserve/coldserve/checkpoint"
	"github.com/coldserve/coldserve/encoder"
	"github.com/coldserve/coldserve/weights"
)

const adminToken = "s3cret-admin-token"

// checkpointRoot builds a --checkpoint-root holding copies of tiny-roberta ("tiny"), the
// sentiment model ("sentiment") and tiny_fused.json's recipe written with WriteFused ("fused").
func checkpointRoot(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	copyDir(t, tinyDir, filepath.Join(root, "tiny"))
	copyDir(t, sentimentDir, filepath.Join(root, "sentiment"))
	cfg, err := weights.LoadConfig(filepath.Join(tinyDir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cks []*weights.Checkpoint
	for seed := uint64(0); seed < 3; seed++ {
		cks = append(cks, weights.Generate(cfg, seed, weights.GenerateOptions{}))
	}
	fused, err := weights.Fuse(cks, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := weights.WriteFused(filepath.Join(root, "fused"), fused, tinyDir); err != nil {
		t.Fatal(err)
	}
	return root
}

func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		in, err := os.Open(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dst, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			t.Fatal(err)
		}
		in.Close()
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// newAdminServer serves root/tiny with the admin API enabled on root.
func newAdminServer(t testing.TB, root string, workers int) *Server {
	t.Helper()
	return newServer(t, Options{Admin: AdminOptions{Token: adminToken,
		Sources: &checkpoint.Resolver{Roots: []string{root}}}},
		ModelConfig{Dir: filepath.Join(root, "tiny"), Encoder: encoder.EncoderOptions{Workers: workers}})
}

// admin sends an authenticated admin request and returns the status and body.
func adminDo(t testing.TB, h http.Handler, method, path string, body any) (int, []byte) {
	t.Helper()
	return doAuth(t, h, method, path, body, "Bearer "+adminToken)
}

func doAuth(t testing.TB, h http.Handler, method, path string, body any, auth string) (int, []byte) {
	t.Helper()
	wrapped := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		h.ServeHTTP(w, r)
	})
	return do(t, wrapped, method, path, body)
}

// forwardMean embeds texts alone on a fresh encoder of dir: the reference for a checkpoint
// without a golden file.
func forwardMean(t testing.TB, dir string, ids [][]int32) [][]float32 {
	t.Helper()
	ck, err := weights.Load(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := encoder.NewEncoder(ck, encoder.EncoderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]float32, len(ids))
	for i, x := range ids {
		o, err := enc.Forward(context.Background(), [][]int32{x})
		if err != nil {
			t.Fatal(err)
		}
		if out[i], err = enc.Pool(o, 0, encoder.PoolMean, false); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
